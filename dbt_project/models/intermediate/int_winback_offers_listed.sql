-- One row per churn reason in var('winback').offers (plus 'inactive', for long-inactive
-- paying accounts, and 'default', for any other or unknown reason): the offer key the
-- reactivations are measured by, the text customer success uses, and whether the offer
-- waits for a product update that addresses the reason (var('winback').product_updates).
{%- set offers = var('winback')['offers'] %}
{%- for reason, offer in offers.items() %}
    select
        '{{ reason }}' as churn_reason,
        '{{ offer["offer_key"] }}' as offer_key,
        '{{ offer["text"] | replace("'", "''") }}' as offer_text,
        {{ 'true' if offer.get('wait_for_product_update', false) else 'false' }}
            as waits_for_product_update
    {%- if not loop.last %}
        union all
    {%- endif %}
{%- endfor %}
