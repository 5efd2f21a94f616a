"""The simulated company's vocabulary: segments, plans, features, event names, reasons.

Kept apart from the generator so that docs, tests and the default event-role config can
point at one list. None of these names appear in the pipeline's SQL: the pipeline learns
them from `event_roles` in the config, as it would a real company's names.
"""

from __future__ import annotations

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_SHARE = (0.6, 0.3, 0.1)
SEATS_RANGE = {"SMB": (1, 5), "Mid-Market": (4, 18), "Enterprise": (15, 45)}
ANNUAL_SHARE = {"SMB": 0.2, "Mid-Market": 0.6, "Enterprise": 0.9}
# Baseline monthly churn hazard: small customers churn more (DOMAIN.md §8: <5% small, 1-2% large).
MONTHLY_HAZARD = {"SMB": 0.03, "Mid-Market": 0.016, "Enterprise": 0.009}

PLANS = ("Starter", "Pro", "Business")
PLAN_PRICE_PER_SEAT = {"Starter": 25.0, "Pro": 49.0, "Business": 79.0}
SEGMENT_PLANS = {"SMB": (0, 1), "Mid-Market": (1, 2), "Enterprise": (2, 2)}  # plan index range
ANNUAL_DISCOUNT = 0.85

# Ten features; the first four are "core" (the outcome the product exists for).
FEATURES = (
    "projects", "workflows", "reports", "integrations", "dashboards",
    "exports", "comments", "automation_rules", "api", "admin_console",
)  # fmt: skip
CORE_FEATURES = FEATURES[:4]

# The company's own event names, mapped to roles by pipeline_config's event_roles.
SESSION_EVENT = "session_started"
CORE_ACTION_EVENT = "project_delivered"
FEATURE_EVENTS = {feature: f"{feature}_used" for feature in FEATURES}

# Cancellation reasons (DOMAIN.md §8) and their share among visible voluntary churn, by segment.
VOLUNTARY_REASONS = (
    "price", "missing_features", "technical_problems", "poor_support",
    "competitor", "complexity", "unmet_expectations",
)  # fmt: skip
REASON_WEIGHTS = {
    "SMB": (0.34, 0.12, 0.12, 0.1, 0.1, 0.12, 0.1),
    "Mid-Market": (0.2, 0.2, 0.14, 0.12, 0.16, 0.08, 0.1),
    "Enterprise": (0.1, 0.26, 0.16, 0.12, 0.22, 0.04, 0.1),
}
HIDDEN_REASON = "no_longer_needed"  # budget cuts, acquisitions: nothing in usage foretells them
INVOLUNTARY_REASON = "payment_failure"
# Win-back propensity by reason (DOMAIN.md §9: involuntary churners come back most).
WINBACK_BASE = {
    "payment_failure": 0.45, "price": 0.22, "missing_features": 0.18,
    "technical_problems": 0.14, "poor_support": 0.08, "competitor": 0.07,
    "complexity": 0.08, "unmet_expectations": 0.06, "no_longer_needed": 0.04,
}  # fmt: skip
# Support tickets pile up before these reasons.
SUPPORT_DRIVEN_REASONS = ("technical_problems", "poor_support")

TICKET_CATEGORIES = ("how_to", "bug", "performance", "billing", "feature_request", "account")
# the subject line a help desk shows for a ticket of each category
TICKET_SUBJECTS = {
    "how_to": "How do I set this up?",
    "bug": "Something is broken",
    "performance": "Pages are slow to load",
    "billing": "Question about our invoice",
    "feature_request": "Could you add this feature?",
    "account": "Change to our account settings",
}
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
PAYMENT_FAILURE_CODES = ("card_declined", "insufficient_funds", "expired_card")

CSMS = (
    "Ana Ruiz", "Ben Okafor", "Chloe Martin", "Dev Patel",
    "Eva Novak", "Farid Haddad", "Grace Liu", "Hugo Costa",
)  # fmt: skip
FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie",
    "Noor", "Lena", "Mateo", "Yuki", "Amara", "Ines", "Oskar", "Priya",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Garcia", "Müller", "Kim", "Rossi", "Dubois", "Silva", "Nowak",
    "O'Brien", "Haddad", "Tanaka", "Okafor", "Larsen", "Costa", "Singh", "Weber",
)  # fmt: skip
COMPANY_WORDS = (
    "Acme", "Northwind", "Bluebird", "Copper", "Granite", "Harbor", "Lumen", "Maple",
    "Nimbus", "Orbit", "Pioneer", "Quarry", "Summit", "Tidal", "Vertex", "Willow",
)  # fmt: skip
COMPANY_SUFFIXES = ("Ltd", "GmbH", "Inc", "Labs", "Group", "& Co")
# Expected dips (traps for alert rules, recorded in the ground truth): the company's own
# breaks (name, first MM-DD, last MM-DD, share of normal activity) and each country's
# public holidays (from the `holidays` package) at this share of normal activity.
COMPANY_BREAKS = (
    {"name": "Year-end break", "start": "12-22", "end": "01-02", "expected_activity": 0.3},
    {"name": "August holidays", "start": "08-01", "end": "08-31", "expected_activity": 0.75},
)
PUBLIC_HOLIDAY_ACTIVITY = 0.3
WEEKEND_ACTIVITY = 0.12
VACATION_DAYS = 14  # two vacations a year per user

# country, IANA time zone, UTC offset in hours used for local working hours (no DST).
COUNTRIES = (
    ("US", "America/New_York", -5), ("US", "America/Los_Angeles", -8),
    ("GB", "Europe/London", 0), ("DE", "Europe/Berlin", 1),
    ("FR", "Europe/Paris", 1), ("AU", "Australia/Sydney", 10),
)  # fmt: skip
