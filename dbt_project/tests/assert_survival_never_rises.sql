-- Kaplan-Meier invariant: survival starts at or below 1 and never rises with tenure.
select
    dimension,
    dimension_value,
    tenure_month,
    survival_probability,
    previous_survival
from (
    select
        *,
        lag(survival_probability, 1, 1.0) over (
            partition by dimension, dimension_value order by tenure_month
        ) as previous_survival
    from {{ ref('fct_survival_curves') }}
) as curves
where survival_probability > previous_survival + 1e-9
