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
    SELECTED = "selected"


class MarketerRole(StrEnum):
    """What a marketer may do on a brand, each role including the ones below it."""

    VIEWER = "viewer"  # reads contests, entrants, answers and the audit log
    EDITOR = "editor"  # also writes contests, steps, prizes, replies and reviews
    OWNER = "owner"  # also the brand itself: its domains, logo, colours and team

    def allows(self, needed: MarketerRole) -> bool:
        return _ROLE_RANKS[self] >= _ROLE_RANKS[needed]


_ROLE_RANKS = {MarketerRole.VIEWER: 0, MarketerRole.EDITOR: 1, MarketerRole.OWNER: 2}


class OutboxStatus(StrEnum):
    PENDING = "pending"
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
    # How many entries there are, raised with the chain head as each entry joins: the
    # contest page shows it without counting the entries.
    entry_count = fields.IntField(default=0)
    # Whether the contest page shows the top referrers by display name.
    referral_leaderboard = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    published_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "contest"


class Prize(Model):
    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="prizes", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=160)
    description = fields.TextField(default="")
    quantity = fields.IntField(default=1)
    position = fields.IntField(default=0)

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

    class Meta:
        table = "entry"
        unique_together = (("contest", "participant"),)
        indexes = (
            Index(fields=("contest_id", "device_hash"), name="entry_contest_device"),
            Index(fields=("contest_id", "network_hash"), name="entry_contest_network"),
            Index(fields=("participant_id",), name="entry_participant"),
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

    class Meta:
        table = "answer"
        unique_together = (("entry", "step"),)
        # The console reads a step's answers newest first, a page at a time.
        indexes = (("step_id", "created_at"),)


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


class Draw(Model):
    id = fields.IntField(primary_key=True)
    contest: fields.OneToOneRelation[Contest] = fields.OneToOneField(
        "models.Contest", related_name="draw", on_delete=fields.CASCADE
    )
    frozen_at = fields.DatetimeField()
    list_digest = fields.CharField(max_length=64)
    chain_head = fields.CharField(max_length=64)
    # How many entries the frozen list holds (its lines are ListedEntry rows).
    listed = fields.IntField(default=0)
    public_randomness = fields.CharField(max_length=200, default="")
    drawn_at = fields.DatetimeField(null=True)
    # The certificate without its list of entries, which is read from ListedEntry when
    # the certificate is downloaded: a million lines are not stored twice.
    certificate: dict[str, object] | None = fields.JSONField(null=True)

    class Meta:
        table = "draw"


class ListedEntry(Model):
    """One line of a closed contest's frozen list: a pseudonymous id and its weight."""

    id = fields.BigIntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="listed_entries", on_delete=fields.CASCADE
    )
    # Compared byte by byte (code point order), as the published list is sorted: the
    # PostgreSQL column has the "C" collation (see its migration).
    pseudonym = fields.CharField(max_length=32)
    weight = fields.IntField()

    class Meta:
        table = "listed_entry"
        unique_together = (("contest", "pseudonym"),)


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
