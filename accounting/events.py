"""The domain events of accounting (registered in ``AccountingConfig.ready()``)."""

EVENT_TYPES: dict[str, str] = {
    "fapiao.requested": "a customer (or the desk for them) asked for an electronic fapiao; payload: fapiao_id, "
    "ticket_id or plan_purchase_id, amount, via",
    "fapiao.issued": "the invoicing provider issued a fapiao; payload: fapiao_id, ticket_id or plan_purchase_id, "
    "invoice_number, amount",
    "fapiao.failed": "the invoicing provider refused or failed (staff may retry); payload: fapiao_id, attempts",
    "daily_close.closed": "a center's business day was closed; payload: close_id, business_date, differences "
    "{method: amount}",
    "daily_close.reopened": "HQ re-opened a closed day; payload: close_id, business_date",
}
