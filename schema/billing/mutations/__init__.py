"""The direct-billing mutations, one module each: the member's (book, cancel, answer a
proposed time) and the coordinator desk's (confirm, propose, decline, outcome)."""

from __future__ import annotations

import strawberry

from schema.billing.mutations.approve_advance_payment import approve_advance_payment
from schema.billing.mutations.ask_advance_payment_documents import ask_advance_payment_documents
from schema.billing.mutations.book_appointment import book_appointment
from schema.billing.mutations.cancel_appointment import cancel_appointment
from schema.billing.mutations.confirm_appointment import confirm_appointment
from schema.billing.mutations.decline_advance_payment import decline_advance_payment
from schema.billing.mutations.decline_appointment import decline_appointment
from schema.billing.mutations.mark_card_reissue_delivered import mark_card_reissue_delivered
from schema.billing.mutations.mark_card_reissue_posted import mark_card_reissue_posted
from schema.billing.mutations.propose_appointment_time import propose_appointment_time
from schema.billing.mutations.record_appointment_outcome import record_appointment_outcome
from schema.billing.mutations.request_advance_payment import request_advance_payment
from schema.billing.mutations.request_card_reissue import request_card_reissue
from schema.billing.mutations.respond_to_appointment_time import respond_to_appointment_time
from schema.billing.mutations.send_advance_payment_code import send_advance_payment_code


@strawberry.type
class BillingMutation:
    book_appointment = strawberry.mutation(
        resolver=book_appointment,
        description="直付就诊预约: submit the appointment after the confirm step. High-end "
        "policies only (HIGH_END_REQUIRED: book on 1010-8686).",
    )
    cancel_appointment = strawberry.mutation(
        resolver=cancel_appointment,
        description="Cancel an open appointment, until the day before the visit.",
    )
    respond_to_appointment_time = strawberry.mutation(
        resolver=respond_to_appointment_time,
        description="Accept or decline the time the hospital proposed.",
    )
    confirm_appointment = strawberry.mutation(
        resolver=confirm_appointment,
        description="Coordinator desk: confirm with the hospital's time and doctor.",
    )
    propose_appointment_time = strawberry.mutation(
        resolver=propose_appointment_time,
        description="Coordinator desk: propose another day and time to the member.",
    )
    decline_appointment = strawberry.mutation(
        resolver=decline_appointment,
        description="Coordinator desk: decline with a reason for the member.",
    )
    record_appointment_outcome = strawberry.mutation(
        resolver=record_appointment_outcome,
        description="Coordinator desk: after the day, attended or no-show.",
    )
    request_card_reissue = strawberry.mutation(
        resolver=request_card_reissue,
        description="申请补卡: mobile, delivery address, postcode and reason. High-end policies only.",
    )
    mark_card_reissue_posted = strawberry.mutation(
        resolver=mark_card_reissue_posted,
        description="Coordinator desk: the new card is posted (the member is told by SMS and in the app).",
    )
    mark_card_reissue_delivered = strawberry.mutation(
        resolver=mark_card_reissue_delivered,
        description="Coordinator desk: the new card is delivered.",
    )
    send_advance_payment_code = strawberry.mutation(
        resolver=send_advance_payment_code,
        description="住院垫付: send the confirmation code to the account's mobile (resend after 120 s).",
    )
    request_advance_payment = strawberry.mutation(
        resolver=request_advance_payment,
        description="住院垫付: hospital, admission date, description, confirmed with the SMS code.",
    )
    approve_advance_payment = strawberry.mutation(
        resolver=approve_advance_payment,
        description="Coordinator desk: approve with the amount and the hospital to be paid.",
    )
    decline_advance_payment = strawberry.mutation(
        resolver=decline_advance_payment,
        description="Coordinator desk: decline with a reason.",
    )
    ask_advance_payment_documents = strawberry.mutation(
        resolver=ask_advance_payment_documents,
        description="Coordinator desk: ask for documents (categories, instructions, a "
        "deadline in working days); the member gets an SMS and an e-mail with the H5 upload "
        "link.",
    )
