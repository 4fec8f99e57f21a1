"""The domain's tables. Constraints that matter live in the database, not only here."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from contests.ids import public_id as random_code

# Docstrings become table comments, and the SQLite migration runner splits its SQL on
# semicolons: keep them out of model docstrings.


class ContestStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"
    CLOSED = "closed"
    DRAWN = "drawn"


class EntryStatus(StrEnum):
    ACTIVE = "active"
    DISQUALIFIED = "disqualified"


class EvidenceStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class ReferralStatus(StrEnum):
    # Came through a referral link and entered; counts once they complete a step.
    PENDING = "pending"
    CREDITED = "credited"
    REFUSED = "refused"


class WinnerStatus(StrEnum):
    """Where a drawn entry stands with its prize (contests/claims.py moves it along)."""

    SELECTED = "selected"  # drawn: an alternate waits here until a prize comes to it
    NOTIFIED = "notified"  # holds a prize and has been told (by email, or on the site)
    REMINDED = "reminded"  # told again as the claim deadline nears
    CLAIMED = "claimed"  # sent the details the brand needs to deliver the prize
    EXPIRED = "expired"  # let the claim window pass
    DISQUALIFIED = "disqualified"  # taken out by a marketer, with a reason


class MarketerRole(StrEnum):
    """What a marketer may do on a brand, each role including the ones below it."""

    VIEWER = "viewer"  # reads contests, entrants, answers and the audit log
    EDITOR = "editor"  # also writes contests, steps, prizes, replies and reviews
    OWNER = "owner"  # also the brand itself: its domains, logo, colours and team

    def allows(self, needed: MarketerRole) -> bool:
        return _ROLE_RANKS[self] >= _ROLE_RANKS[needed]


_ROLE_RANKS = {MarketerRole.VIEWER: 0, MarketerRole.EDITOR: 1, MarketerRole.OWNER: 2}


class ReviewDecision(StrEnum):
    CLEARED = "cleared"
    DISQUALIFIED = "disqualified"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    # Claimed by one worker, which is talking to the SMTP server until ``lease_until``.
    SENDING = "sending"
    # Handed over: the SMTP server accepted it.
    SENT = "sent"
    CAPTURED = "captured"
    FAILED = "failed"


class Brand(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=120)
    # The hosts of the brand's own site: visit links may only lead there, and only
    # pages there may report visits.
    site_domains: list[str] = fields.JSONField(default=list)
    reply_to = fields.CharField(max_length=254)
    public_key = fields.CharField(max_length=32, unique=True)
    # The brand's look: a file name under MEDIA_DIR (named by its content) and a colour
    # ("#rrggbb") dark enough for white text on it; empty for Gymkana's own.
    logo = fields.CharField(max_length=80, default="")
    colour = fields.CharField(max_length=7, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "brand"


class Participant(Model):
    """A person with an account: everyone who signs in, marketers included."""

    id = fields.IntField(primary_key=True)
    public_id = fields.CharField(max_length=32, unique=True)
    display_name = fields.CharField(max_length=120, default="")
    email = fields.CharField(max_length=254, null=True)
    email_verified = fields.BooleanField(default=False)
    locale = fields.CharField(max_length=8, default="es")
    avatar_url = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "participant"


class Identity(Model):
    """One sign-in identity: (provider, subject) is the only key, never the email."""

    id = fields.IntField(primary_key=True)
    participant: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="identities", on_delete=fields.CASCADE
    )
    provider = fields.CharField(max_length=40)
    subject = fields.CharField(max_length=255)
    email = fields.CharField(max_length=254, null=True)
    email_verified = fields.BooleanField(default=False)
    display_name = fields.CharField(max_length=120, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "identity"
        unique_together = (("provider", "subject"),)


class Marketer(Model):
    """Someone allowed into a brand's console, linked to an account at first sign-in."""

    id = fields.IntField(primary_key=True)
    brand: fields.ForeignKeyRelation[Brand] = fields.ForeignKeyField(
        "models.Brand", related_name="marketers", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254)
    name = fields.CharField(max_length=120, default="")
    role = fields.CharEnumField(MarketerRole, max_length=8, default=MarketerRole.EDITOR)
    participant: fields.ForeignKeyNullableRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="marketer_roles", null=True, on_delete=fields.SET_NULL
    )
    # The zone the console shows this marketer's times in (the audit log's, say).
    time_zone = fields.CharField(max_length=64, default="Europe/Madrid")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "marketer"
        unique_together = (("brand", "email"),)


class SignInLink(Model):
    """An emailed sign-in link: only the hash of its token is kept."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=254)
    next_path = fields.CharField(max_length=500, default="/")
    locale = fields.CharField(max_length=8, default="es")
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sign_in_link"


class WebSession(Model):
    """Server-side half of a session, so signing out ends it everywhere."""

    id = fields.CharField(max_length=64, primary_key=True)
    participant: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "web_session"


class Contest(Model):
    id = fields.IntField(primary_key=True)
    brand: fields.ForeignKeyRelation[Brand] = fields.ForeignKeyField(
        "models.Brand", related_name="contests", on_delete=fields.CASCADE
    )
    slug = fields.CharField(max_length=80, unique=True)
    title = fields.CharField(max_length=160)
    description = fields.TextField(default="")
    status = fields.CharEnumField(ContestStatus, max_length=16, default=ContestStatus.DRAFT)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    timezone = fields.CharField(max_length=64, default="Europe/Madrid")
    alternates = fields.IntField(default=2)
    rules_version = fields.CharField(max_length=32, default="1")
    # The draw commits to this secret at publication by publishing its SHA-256;
    # the seed itself is revealed only after the draw.
    seed = fields.CharField(max_length=64, null=True)
    seed_commitment = fields.CharField(max_length=64, null=True)
    entry_chain_head = fields.CharField(max_length=64, default="0" * 64)
    # Which draw algorithm the contest committed to at publication (docs/draw.md):
    # contests published before version 2 keep version 1 to the end.
    draw_format = fields.IntField(default=2)
    # The public randomness named at publication: the network (contests/beacon.py,
    # ``Network.describe``) plus the round and its time. None: a draw without a beacon,
    # which the organiser could have steered and every public page says so.
    beacon: dict[str, Any] | None = fields.JSONField(null=True)
    # Chosen in the console before publishing: this contest names no beacon round even
    # where the deployment has one, so its draw rests on the committed seed alone.
    draw_without_beacon = fields.BooleanField(default=False)
    # How many entries there are, raised with the chain head as each entry joins: the
    # contest page shows it without counting the entries.
    entry_count = fields.IntField(default=0)
    # Whether the contest page shows the top referrers by display name.
    referral_leaderboard = fields.BooleanField(default=False)
    # The language the contest is written in first: participants reading another one
    # see it where a text has no translation. The columns above hold that language.
    language = fields.CharField(max_length=8, default="es")
    # Texts per language, the main one included: {"en": {"title": ..., "description": ...}}.
    texts: dict[str, dict[str, str]] = fields.JSONField(default=dict)
    # Eligibility, declared at entry: 0 asks no age, an empty list admits every country.
    min_age = fields.IntField(default=0)
    countries: list[str] = fields.JSONField(default=list)
    # How long a winner has to claim their prize once told, and what the claim form asks
    # for (names of contests/claims.py's CLAIM_FIELDS, in the order shown).
    claim_days = fields.IntField(default=14)
    claim_fields: list[str] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    published_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "contest"


class RulesVersion(Model):
    """The rules and privacy notice of a contest as they were at one version."""

    # Texts per language: {"es": {"rules": ..., "privacy": ...}}. A version is never
    # changed once written: an entry's consent names it.

    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="rules_versions", on_delete=fields.CASCADE
    )
    version = fields.IntField()
    texts: dict[str, dict[str, str]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    created_by = fields.CharField(max_length=254, default="")

    class Meta:
        table = "rules_version"
        unique_together = (("contest", "version"),)


class Prize(Model):
    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="prizes", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=160)
    description = fields.TextField(default="")
    quantity = fields.IntField(default=1)
    position = fields.IntField(default=0)
    # {"en": {"name": ..., "description": ...}}, as the contest's texts.
    texts: dict[str, dict[str, str]] = fields.JSONField(default=dict)

    class Meta:
        table = "prize"


class Step(Model):
    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="steps", on_delete=fields.CASCADE
    )
    public_id = fields.CharField(max_length=32, unique=True)
    position = fields.IntField(default=0)
    # A name in the step-kind registry (contests/steps/registry.py).
    kind = fields.CharField(max_length=16)
    title = fields.CharField(max_length=160)
    clue = fields.TextField(default="")
    points = fields.IntField(default=1)
    required = fields.BooleanField(default=True)
    unlocks_after: fields.ForeignKeyNullableRelation[Step] = fields.ForeignKeyField(
        "models.Step", related_name="unlocks", null=True, on_delete=fields.SET_NULL
    )
    # The kind's own settings, validated by the kind's settings model.
    config: dict[str, Any] = fields.JSONField(default=dict)
    # {"en": {"title": ..., "clue": ..., "question": ...}}, as the contest's texts.
    texts: dict[str, dict[str, str]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "step"


class Entry(Model):
    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="entries", on_delete=fields.CASCADE
    )
    participant: fields.ForeignKeyNullableRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="entries", null=True, on_delete=fields.SET_NULL
    )
    # Pseudonymous id published in the draw's frozen list.
    public_id = fields.CharField(max_length=32, unique=True)
    status = fields.CharEnumField(EntryStatus, max_length=16, default=EntryStatus.ACTIVE)
    locale = fields.CharField(max_length=8, default="es")
    consent_version = fields.CharField(max_length=32)
    consented_at = fields.DatetimeField()
    chain_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    # The code in the entry's referral link: random, so that it tells nothing of the
    # entry's pseudonymous id and cannot be guessed from another one.
    referral_code = fields.CharField(max_length=32, unique=True, default=random_code)
    # Keyed hashes of the device and the network the entry came from (contests/signals.py).
    device_hash = fields.CharField(max_length=32, null=True)
    network_hash = fields.CharField(max_length=32, null=True)
    # What the participant declared when the contest asked (its minimum age, its countries).
    declared_age = fields.IntField(null=True)
    declared_country = fields.CharField(max_length=2, null=True)

    class Meta:
        table = "entry"
        unique_together = (("contest", "participant"),)
        indexes = (
            Index(fields=("contest_id", "device_hash"), name="entry_contest_device"),
            Index(fields=("contest_id", "network_hash"), name="entry_contest_network"),
            Index(fields=("participant_id",), name="entry_participant"),
            # The dashboard counts a contest's entrants per day from this index alone.
            Index(fields=("contest_id", "created_at"), name="entry_contest_created"),
            # The console's entrants filtered by declared country, newest first.
            Index(fields=("contest_id", "declared_country", "id"), name="entry_contest_country"),
        )


class Completion(Model):
    id = fields.IntField(primary_key=True)
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="completions", on_delete=fields.CASCADE
    )
    step: fields.ForeignKeyRelation[Step] = fields.ForeignKeyField(
        "models.Step", related_name="completions", on_delete=fields.CASCADE
    )
    points = fields.IntField()
    completed_at = fields.DatetimeField()

    class Meta:
        table = "completion"
        unique_together = (("entry", "step"),)
        indexes = (Index(fields=("step_id",), name="completion_step"),)


class EntrantTally(Model):
    """How many entered a contest in one quarter of an hour, kept by the database as
    entries come and go (see contests/tallies.py), so that the dashboard reads a few
    hundred counters instead of a contest's every entry."""

    id = fields.IntField(primary_key=True)
    # Not a foreign key: the database's own triggers write these rows.
    contest_id = fields.IntField()
    # Quarter-hours since 1970-01-01 UTC. Every time zone's offset is a whole number of
    # quarter-hours, so a local day is a sum of quarters in whatever zone the contest
    # has now.
    quarter = fields.IntField()
    entrants = fields.IntField(default=0)

    class Meta:
        table = "entrant_tally"
        unique_together = (("contest_id", "quarter"),)


class StepTally(Model):
    """How many entries of a contest did a step (``stage``: its id), or every required
    step (``stage`` 0), counted in ``shard`` (the entry's id modulo
    ``contests.tallies.SHARDS``) so that completions of one step by different entrants
    seldom wait for the same counter. Kept by the database as completions come and go."""

    id = fields.IntField(primary_key=True)
    contest_id = fields.IntField()
    stage = fields.IntField()
    shard = fields.IntField()
    done = fields.IntField(default=0)

    class Meta:
        table = "step_tally"
        unique_together = (("contest_id", "stage", "shard"),)


class ReferrerTally(Model):
    """How many referrals of an entry count (are credited), kept by the database as
    referrals are credited, refused or removed, so that the top referrers are the first
    rows of an index instead of a count of a contest's every referral."""

    id = fields.IntField(primary_key=True)
    contest_id = fields.IntField()
    referrer_id = fields.IntField()
    credited = fields.IntField(default=0)

    class Meta:
        table = "referrer_tally"
        unique_together = (("contest_id", "referrer_id"),)
        indexes = (
            Index(fields=("contest_id", "credited", "referrer_id"), name="referrer_tally_top"),
        )


class ReferralTally(Model):
    """How many referrals of a contest are in each status, counted in ``shard`` (the
    referred entry's id modulo ``contests.tallies.SHARDS``) so that referrals credited
    at once for different referrers seldom wait for the same counter. Kept by the
    database as referrals come, change status and go."""

    id = fields.IntField(primary_key=True)
    contest_id = fields.IntField()
    status = fields.CharField(max_length=16)
    shard = fields.IntField()
    referrals = fields.IntField(default=0)

    class Meta:
        table = "referral_tally"
        unique_together = (("contest_id", "status", "shard"),)


class Evidence(Model):
    """Proof of a step reported from elsewhere, waiting for a worker's verdict."""

    # Besides the verdict it holds the step kind's own data (a visit: page and times).

    id = fields.IntField(primary_key=True)
    # One report per nonce: a replayed report is refused by the database.
    nonce = fields.CharField(max_length=32, unique=True)
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="evidence", on_delete=fields.CASCADE
    )
    step: fields.ForeignKeyRelation[Step] = fields.ForeignKeyField(
        "models.Step", related_name="evidence", on_delete=fields.CASCADE
    )
    reported_at = fields.DatetimeField()
    data: dict[str, Any] = fields.JSONField(default=dict)
    status = fields.CharEnumField(EvidenceStatus, max_length=16, default=EvidenceStatus.PENDING)
    reason = fields.CharField(max_length=200, default="")

    class Meta:
        table = "evidence"
        indexes = (Index(fields=("status", "id"), name="evidence_status"),)


class Answer(Model):
    """What a participant answered for a step done from the contest page, and the brand's reply."""

    # A quiz keeps only the tries used, counted here so that a limit survives Redis; an
    # opinion keeps the participant's words as typed (escaped when shown). The reply is
    # signed with the marketer's name as it was when they replied.

    id = fields.IntField(primary_key=True)
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="answers", on_delete=fields.CASCADE
    )
    step: fields.ForeignKeyRelation[Step] = fields.ForeignKeyField(
        "models.Step", related_name="answers", on_delete=fields.CASCADE
    )
    text = fields.TextField(default="")
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    reply = fields.TextField(default="")
    replied_at = fields.DatetimeField(null=True)
    replied_by: fields.ForeignKeyNullableRelation[Marketer] = fields.ForeignKeyField(
        "models.Marketer", related_name="replies", null=True, on_delete=fields.SET_NULL
    )
    replied_by_name = fields.CharField(max_length=120, default="")
    # The participant lets the brand show the answer on the contest page under their
    # display name (when they said so; None: not, or no longer); the brand chose to.
    publish_consent_at = fields.DatetimeField(null=True)
    on_wall_at = fields.DatetimeField(null=True)

    class Meta:
        table = "answer"
        unique_together = (("entry", "step"),)
        # The console reads a step's answers newest first, a page at a time; the contest
        # page reads the few the brand put on its wall.
        indexes = (("step_id", "created_at"), Index(fields=("on_wall_at",), name="answer_wall"))


class Referral(Model):
    """Someone who entered through another entry's referral link."""

    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="referrals", on_delete=fields.CASCADE
    )
    # None when the code named no entry of this contest.
    referrer: fields.ForeignKeyNullableRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="referrals_made", null=True, on_delete=fields.CASCADE
    )
    referred: fields.OneToOneRelation[Entry] = fields.OneToOneField(
        "models.Entry", related_name="referred_by", on_delete=fields.CASCADE
    )
    code = fields.CharField(max_length=32, default="")
    status = fields.CharEnumField(ReferralStatus, max_length=16, default=ReferralStatus.PENDING)
    # Why a referral does not count, as a code (contests/referrals.py).
    reason = fields.CharField(max_length=32, default="")
    created_at = fields.DatetimeField()
    credited_at = fields.DatetimeField(null=True)

    class Meta:
        table = "referral"
        indexes = (
            Index(fields=("contest_id", "status", "referrer_id"), name="referral_leaders"),
            Index(fields=("referrer_id", "status"), name="referral_referrer"),
        )


class FraudFlag(Model):
    """A reason to review an entry: flagged entries stay in the contest until a person decides."""

    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="flags", on_delete=fields.CASCADE
    )
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="flags", on_delete=fields.CASCADE
    )
    # A reason code of contests/signals.py, and what backs it.
    reason = fields.CharField(max_length=32)
    details: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "fraud_flag"
        unique_together = (("entry", "reason"),)
        indexes = (Index(fields=("contest_id", "entry_id"), name="fraud_flag_contest"),)


class Review(Model):
    """A person's decision on a flagged entry: cleared, or disqualified, with the reason."""

    # One per entry, the latest decision: clearing is undone by a later flag (the entry
    # comes back for review), disqualifying is final. The audit log keeps every decision.

    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="reviews", on_delete=fields.CASCADE
    )
    entry: fields.OneToOneRelation[Entry] = fields.OneToOneField(
        "models.Entry", related_name="review", on_delete=fields.CASCADE
    )
    decision = fields.CharEnumField(ReviewDecision, max_length=16)
    reason = fields.TextField(default="")
    reviewer: fields.ForeignKeyNullableRelation[Marketer] = fields.ForeignKeyField(
        "models.Marketer", related_name="reviews", null=True, on_delete=fields.SET_NULL
    )
    reviewer_name = fields.CharField(max_length=120, default="")
    decided_at = fields.DatetimeField()

    class Meta:
        table = "review"
        indexes = (Index(fields=("contest_id", "decided_at"), name="review_contest"),)


class Conversation(Model):
    """A participant's direct channel with a brand: one thread per person and brand."""

    id = fields.IntField(primary_key=True)
    # How the participant's pages name the thread: random, never the row's id.
    public_id = fields.CharField(max_length=32, unique=True, default=random_code)
    brand: fields.ForeignKeyRelation[Brand] = fields.ForeignKeyField(
        "models.Brand", related_name="conversations", on_delete=fields.CASCADE
    )
    participant: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="conversations", on_delete=fields.CASCADE
    )
    # The contest page the participant first wrote from, if any.
    contest: fields.ForeignKeyNullableRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="conversations", null=True, on_delete=fields.SET_NULL
    )
    assigned_to: fields.ForeignKeyNullableRelation[Marketer] = fields.ForeignKeyField(
        "models.Marketer", related_name="assigned", null=True, on_delete=fields.SET_NULL
    )
    # Whether the participant's latest words wait for the brand to read them.
    unread = fields.BooleanField(default=True)
    last_message_at = fields.DatetimeField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "conversation"
        unique_together = (("brand", "participant"),)
        # The inbox: unread first, then the latest; a page at a time.
        indexes = (
            Index(
                fields=("brand_id", "unread", "last_message_at", "id"), name="conversation_inbox"
            ),
        )


class ConversationMessage(Model):
    """One message of a conversation, from the participant or from a marketer, by name."""

    id = fields.IntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="messages", on_delete=fields.CASCADE
    )
    from_brand = fields.BooleanField(default=False)
    marketer: fields.ForeignKeyNullableRelation[Marketer] = fields.ForeignKeyField(
        "models.Marketer", related_name="messages_sent", null=True, on_delete=fields.SET_NULL
    )
    # The marketer's name as it was when they wrote; empty for the participant's.
    signed = fields.CharField(max_length=120, default="")
    text = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "conversation_message"
        indexes = (Index(fields=("conversation_id", "id"), name="conversation_message_thread"),)


class BrandOptIn(Model):
    """A participant's wish to hear from a brand after its contests, in the words they ticked."""

    # One per participant and brand; withdrawing keeps the row with its date, so that
    # the brand's list leaves them out and the record of what they agreed to remains.

    id = fields.IntField(primary_key=True)
    brand: fields.ForeignKeyRelation[Brand] = fields.ForeignKeyField(
        "models.Brand", related_name="opt_ins", on_delete=fields.CASCADE
    )
    participant: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="opt_ins", on_delete=fields.CASCADE
    )
    # The contest whose entry form they ticked it on.
    contest: fields.ForeignKeyNullableRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="opt_ins", null=True, on_delete=fields.SET_NULL
    )
    text = fields.TextField()
    locale = fields.CharField(max_length=8)
    given_at = fields.DatetimeField()
    withdrawn_at = fields.DatetimeField(null=True)

    class Meta:
        table = "brand_opt_in"
        unique_together = (("brand", "participant"),)
        # The brand's list, a batch at a time.
        indexes = (Index(fields=("brand_id", "withdrawn_at", "id"), name="brand_opt_in_list"),)


class Draw(Model):
    id = fields.IntField(primary_key=True)
    contest: fields.OneToOneRelation[Contest] = fields.OneToOneField(
        "models.Contest", related_name="draw", on_delete=fields.CASCADE
    )
    frozen_at = fields.DatetimeField()
    list_digest = fields.CharField(max_length=64)
    chain_head = fields.CharField(max_length=64)
    # How many entries the frozen list holds (its lines are in FrozenLines).
    listed = fields.IntField(default=0)
    public_randomness = fields.CharField(max_length=200, default="")
    # The named round once fetched and checked (number, signature, randomness); until
    # then the draw waits, and the last reason it is still waiting is kept for the page.
    beacon_round: dict[str, Any] | None = fields.JSONField(null=True)
    beacon_problem = fields.CharField(max_length=300, default="")
    beacon_checked_at = fields.DatetimeField(null=True)
    drawn_at = fields.DatetimeField(null=True)
    # The certificate without its list of entries, which is read from FrozenLines when
    # the certificate is downloaded: a million lines are not stored twice.
    certificate: dict[str, object] | None = fields.JSONField(null=True)

    class Meta:
        table = "draw"


class FrozenLines(Model):
    """A run of consecutive lines of a closed contest's frozen list, as published."""

    # The list is kept as the text it is published as ("pseudonym weight" and a line
    # feed per entry, sorted), a few thousand lines a row: a million entries are a few
    # hundred rows written at close and read back for the draw in a moment, where a row
    # per entry took longer to write and read than computing the list itself.

    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="frozen_lines", on_delete=fields.CASCADE
    )
    # Order of the run in the list, from 0.
    position = fields.IntField()
    # The run's first pseudonym, to find the run that would hold a given one: compared
    # byte by byte (code point order), as the list is sorted, so the PostgreSQL column
    # has the "C" collation (see its migration).
    first_pseudonym = fields.CharField(max_length=32)
    lines = fields.TextField()

    class Meta:
        table = "frozen_lines"
        unique_together = (("contest", "position"),)
        indexes = (Index(fields=("contest_id", "first_pseudonym"), name="frozen_lines_first"),)


class Winner(Model):
    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="winners", on_delete=fields.CASCADE
    )
    entry: fields.ForeignKeyRelation[Entry] = fields.ForeignKeyField(
        "models.Entry", related_name="wins", on_delete=fields.CASCADE
    )
    prize: fields.ForeignKeyNullableRelation[Prize] = fields.ForeignKeyField(
        "models.Prize", related_name="winners", null=True, on_delete=fields.SET_NULL
    )
    rank = fields.IntField()
    alternate = fields.BooleanField(default=False)
    status = fields.CharEnumField(WinnerStatus, max_length=16, default=WinnerStatus.SELECTED)
    created_at = fields.DatetimeField()
    notified_at = fields.DatetimeField(null=True)
    claim_deadline = fields.DatetimeField(null=True)
    # How many reminders were sent, so that each goes out once.
    reminders = fields.IntField(default=0)
    claimed_at = fields.DatetimeField(null=True)
    # What the winner sent on the claim form: personal data, shown only to the brand's
    # editors, exported and deleted with the participant's data.
    claim_data: dict[str, str] = fields.JSONField(default=dict)
    # Why a marketer disqualified the winner.
    reason = fields.CharField(max_length=300, default="")
    # The rank of the alternate that took over this winner's prize.
    replaced_by_rank = fields.IntField(null=True)

    class Meta:
        table = "winner"
        unique_together = (("contest", "entry"), ("contest", "rank"))


class Outbox(Model):
    """Every email, composed in the recipient's language, waiting to be sent."""

    id = fields.IntField(primary_key=True)
    # At most one message per recipient and kind: "winner:42", "sign-in:<hash>".
    dedupe_key = fields.CharField(max_length=120, unique=True)
    kind = fields.CharField(max_length=40)
    brand: fields.ForeignKeyNullableRelation[Brand] = fields.ForeignKeyField(
        "models.Brand", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    to_email = fields.CharField(max_length=254)
    to_name = fields.CharField(max_length=120, default="")
    reply_to = fields.CharField(max_length=254, default="")
    locale = fields.CharField(max_length=8)
    subject = fields.CharField(max_length=200)
    text_body = fields.TextField()
    html_body = fields.TextField()
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField()
    next_attempt_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    # Fixed before the first attempt and reused by every retry, so that a message sent
    # twice after a crash is recognisably the same message.
    message_id = fields.CharField(max_length=200, default="")
    # While SENDING, the worker holding the message has it until then; past it the
    # worker is taken to have died and the message is due again.
    lease_until = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"


class AuditLog(Model):
    id = fields.IntField(primary_key=True)
    brand: fields.ForeignKeyNullableRelation[Brand] = fields.ForeignKeyField(
        "models.Brand", related_name="audit", null=True, on_delete=fields.SET_NULL
    )
    actor = fields.CharField(max_length=254)
    action = fields.CharField(max_length=60)
    target = fields.CharField(max_length=120, default="")
    data: dict[str, object] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "audit_log"
