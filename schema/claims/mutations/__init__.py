"""The claimant's mutations, one module each; the whole flow is described in
server/claims/drafts.py."""

from __future__ import annotations

import strawberry

from schema.claims.mutations.add_payee import add_payee
from schema.claims.mutations.authorise_uxiang import authorise_uxiang
from schema.claims.mutations.change_contact_details import change_contact_details
from schema.claims.mutations.claim_from_uxiang_record import claim_from_uxiang_record
from schema.claims.mutations.discard_claim_draft import discard_claim_draft
from schema.claims.mutations.personal_details_change import (
    discard_personal_details_change,
    send_personal_details_codes,
    start_personal_details_change,
    submit_personal_details_change,
)
from schema.claims.mutations.remove_claim_document import remove_claim_document
from schema.claims.mutations.remove_payee import remove_payee
from schema.claims.mutations.resubmit_claim import resubmit_claim
from schema.claims.mutations.save_claim_contact import save_claim_contact
from schema.claims.mutations.send_claim_confirmation_code import send_claim_confirmation_code
from schema.claims.mutations.send_pre_authorisation_code import send_pre_authorisation_code
from schema.claims.mutations.send_pre_authorisation_supplement import (
    send_pre_authorisation_supplement,
)
from schema.claims.mutations.start_claim import start_claim
from schema.claims.mutations.start_pre_authorisation import start_pre_authorisation
from schema.claims.mutations.submit_claim import submit_claim
from schema.claims.mutations.submit_claim_supplement import submit_claim_supplement
from schema.claims.mutations.submit_pre_authorisation import submit_pre_authorisation
from schema.claims.mutations.update_claim_amount import update_claim_amount
from schema.claims.mutations.update_claim_basics import update_claim_basics
from schema.claims.mutations.update_payee import update_payee
from schema.claims.mutations.withdraw_claim import withdraw_claim
from schema.claims.mutations.withdraw_uxiang_authorisation import withdraw_uxiang_authorisation


@strawberry.type
class ClaimsMutation:
    start_claim = strawberry.mutation(
        resolver=start_claim,
        description="自助理赔 step 1: accept the notice and choose the policy (self or a minor "
        "child). A first claim needs saveClaimContact before.",
    )
    save_claim_contact = strawberry.mutation(
        resolver=save_claim_contact,
        description="Contact address and e-mail, asked before the first claim.",
    )
    update_claim_basics = strawberry.mutation(
        resolver=update_claim_basics,
        description="Step 2, 基本信息: address, incident type and date, claim type, relationship.",
    )
    update_claim_amount = strawberry.mutation(
        resolver=update_claim_amount,
        description="Step 3, 理赔金额: invoice total and numbers, region, payee, compensation.",
    )
    remove_claim_document = strawberry.mutation(
        resolver=remove_claim_document,
        description="Step 4: take out a file uploaded with POST /api/claims/{claimId}/documents.",
    )
    send_claim_confirmation_code = strawberry.mutation(
        resolver=send_claim_confirmation_code,
        description="Step 6: the SMS code (5 minutes) to the account's mobile, once the draft "
        "is complete and signed.",
    )
    submit_claim = strawberry.mutation(
        resolver=submit_claim,
        description="Submit a draft with the SMS code; idempotent per client key.",
    )
    discard_claim_draft = strawberry.mutation(
        resolver=discard_claim_draft, description="Delete a draft and its files."
    )
    withdraw_claim = strawberry.mutation(
        resolver=withdraw_claim, description="撤案: withdraw a claim still being handled."
    )
    resubmit_claim = strawberry.mutation(
        resolver=resubmit_claim,
        description="重新申报: a new draft from a rejected claim or one with problem images.",
    )
    submit_claim_supplement = strawberry.mutation(
        resolver=submit_claim_supplement,
        description="补材 in the app: send the files uploaded for the open supplement request.",
    )
    add_payee = strawberry.mutation(
        resolver=add_payee,
        description="收款人 (U享赔信息): save a payee with a SAVE_PAYEE SMS code.",
    )
    update_payee = strawberry.mutation(
        resolver=update_payee, description="Change a payee, with a SAVE_PAYEE SMS code."
    )
    remove_payee = strawberry.mutation(
        resolver=remove_payee,
        description="Take a payee off the list (not while a claim in progress is paid to it).",
    )
    change_contact_details = strawberry.mutation(
        resolver=change_contact_details,
        description="自助保全, 客户联系信息变更: region, street address and e-mail with a "
        "CHANGE_CONTACT SMS code; applied at once to the contact claims use.",
    )
    start_personal_details_change = strawberry.mutation(
        resolver=start_personal_details_change,
        description="自助保全, 客户信息变更: the new name, ID type and number and mobile, checked; "
        "a draft for the photos and signature (POST /api/service-requests/{id}/files).",
    )
    send_personal_details_codes = strawberry.mutation(
        resolver=send_personal_details_codes,
        description="客户信息变更: SMS codes to the current mobile and, when it changes, to the "
        "new one, once the photos and signature are uploaded.",
    )
    submit_personal_details_change = strawberry.mutation(
        resolver=submit_personal_details_change,
        description="客户信息变更: send it to the back office with the codes; it applies once "
        "approved.",
    )
    discard_personal_details_change = strawberry.mutation(
        resolver=discard_personal_details_change,
        description="客户信息变更: delete a draft and its files.",
    )
    start_pre_authorisation = strawberry.mutation(
        resolver=start_pre_authorisation,
        description="预先授权 (high-end policies): notice, policy, applicant, facility, visit "
        "date and items; other policies get the offline route.",
    )
    send_pre_authorisation_code = strawberry.mutation(
        resolver=send_pre_authorisation_code,
        description="预先授权: the SMS code to the member's own mobile, once both kinds of file "
        "are uploaded.",
    )
    submit_pre_authorisation = strawberry.mutation(
        resolver=submit_pre_authorisation,
        description="预先授权: submit with the SMS code.",
    )
    send_pre_authorisation_supplement = strawberry.mutation(
        resolver=send_pre_authorisation_supplement,
        description="预先授权: send the files the claims office asked for (upload them first).",
    )
    authorise_uxiang = strawberry.mutation(
        resolver=authorise_uxiang,
        description="U享赔: tick the U享赔客户授权书 (version, time and client recorded); "
        "then sign it at the returned upload path.",
    )
    claim_from_uxiang_record = strawberry.mutation(
        resolver=claim_from_uxiang_record,
        description="U享赔: a claims draft prefilled from a visit record; one claim per record.",
    )
    withdraw_uxiang_authorisation = strawberry.mutation(
        resolver=withdraw_uxiang_authorisation,
        description="U享赔: withdraw an authorisation (撤回授权); nothing more is fetched under it.",
    )
