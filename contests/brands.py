"""Brands, their site's domains, and the marketers allowed into their console."""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from contests import audit, mail
from contests.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from contests.ids import public_id, slugify
from contests.links import Links
from contests.look import clean_colour
from contests.models import Brand, Marketer, MarketerRole, Outbox, Participant
from contests.text import excerpt, usable
from contests.urls import MAX_URL, domain_name, host_of, web_address
from contests.zones import check_zone


def clean_domain(value: str) -> str:
    """A domain of the brand's site as typed (a bare name, or an address on it),
    normalised the way a browser names the host; InvalidInput otherwise."""
    text = value.strip()
    if len(text) > MAX_URL:
        host = None
    elif "://" in text:
        host = host_of(text)
    else:
        # ".shop.example.com" and "shop.example.com/" are said to mean the site too.
        host = domain_name(text.rstrip("/").lstrip("."))
    if host is None or ("." not in host and host != "localhost"):
        raise InvalidInput(
            N_("“%(domain)s” is not a domain name (for example shop.example.com)."),
            "invalid_domain",
            domain=excerpt(text),
        )
    return host


def host_allowed(brand: Brand, host: str | None) -> bool:
    """True for the brand's domains and their subdomains; ports are ignored."""
    name = domain_name(host) if host else None
    if name is None:
        return False
    for domain in brand.site_domains:
        # Domains saved before they were normalised are compared the same way.
        allowed = domain_name(domain)
        if allowed is not None and (name == allowed or name.endswith("." + allowed)):
            return True
    return False


def url_allowed(brand: Brand, url: str) -> bool:
    """True for an http(s) address on the brand's site, read as a browser reads it."""
    address = web_address(url)
    return address is not None and host_allowed(brand, address.host)


async def create_brand(
    *, name: str, domains: list[str], reply_to: str, now: datetime, actor: str = "system"
) -> Brand:
    if not name.strip():
        raise InvalidInput(N_("The brand needs a name."), "name_required")
    try:
        normalise_email(reply_to)
    except InvalidInput:
        raise InvalidInput(
            N_("The reply-to address must be an email address."), "invalid_reply_to"
        ) from None
    slug = slugify(name, 60)
    if await Brand.filter(slug=slug).exists():
        raise Conflict(N_("A brand called “%(name)s” already exists."), "brand_exists", name=name)
    site_domains = [clean_domain(d) for d in domains if d.strip()]
    async with in_transaction():
        brand = await Brand.create(
            slug=slug,
            name=name.strip(),
            site_domains=site_domains,
            reply_to=reply_to.strip(),
            public_key=public_id(),
        )
        await audit.record(actor=actor, action="brand.created", brand=brand, target=slug, now=now)
    return brand


async def create_brand_for(
    participant: Participant,
    *,
    name: str,
    domains: list[str],
    reply_to: str,
    colour: str,
    logo: str,
    now: datetime,
) -> Brand:
    """A brand created from the console: its creator becomes its first owner.

    ``logo`` is the name of an image already stored (``contests.media``), or "".
    """
    await check_may_create_brands(participant)
    if not [d for d in domains if d.strip()]:
        raise InvalidInput(N_("List at least one domain of the brand's site."), "domains_required")
    chosen = clean_colour(colour)
    address = participant.email or ""
    async with in_transaction():
        brand = await create_brand(
            name=name, domains=domains, reply_to=reply_to, now=now, actor=address
        )
        brand.colour, brand.logo = chosen, logo
        await brand.save(update_fields=["colour", "logo"])
        await Marketer.create(
            brand=brand,
            email=address,
            name=participant.display_name,
            role=MarketerRole.OWNER,
            participant=participant,
        )
        await audit.record(
            actor=address,
            action="marketer.added",
            brand=brand,
            target=address,
            now=now,
            role=MarketerRole.OWNER.value,
        )
    return brand


async def update_look(
    brand: Brand, *, colour: str, logo: str | None, actor: str, now: datetime
) -> None:
    """Change the brand's colour, and its logo when ``logo`` is given ("" removes it)."""
    before = {"colour": brand.colour, "logo": brand.logo}
    brand.colour = clean_colour(colour)
    if logo is not None:
        brand.logo = logo
    after = {"colour": brand.colour, "logo": brand.logo}
    if after == before:
        return
    async with in_transaction():
        await brand.save(update_fields=["colour", "logo"])
        await audit.record(
            actor=actor, action="brand.look", brand=brand, now=now, before=before, after=after
        )


async def update_domains(brand: Brand, domains: list[str], *, actor: str, now: datetime) -> None:
    cleaned = sorted({clean_domain(d) for d in domains if d.strip()})
    if not cleaned:
        raise InvalidInput(N_("List at least one domain of the brand's site."), "domains_required")
    before = brand.site_domains
    brand.site_domains = cleaned
    async with in_transaction():
        await brand.save(update_fields=["site_domains"])
        await audit.record(
            actor=actor, action="brand.domains", brand=brand, now=now, before=before, after=cleaned
        )


def normalise_email(email: str) -> str:
    """The address as kept (lower case), once email-validator finds it well formed.

    No DNS look-up: a sign-in link is the test that the address works. Addresses at
    ``.test`` domains are taken, as the demo uses them.
    """
    address = email.strip()
    try:
        # U+FFFD stands for bytes that were not UTF-8: nobody's address has one.
        if len(address) > 254 or not usable(address, name=True):
            raise EmailNotValidError("unusable characters")
        valid = validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise InvalidInput(
            N_("“%(email)s” does not look like an email address."),
            "invalid_email",
            email=excerpt(address),
        ) from None
    return valid.normalized.lower()


async def add_marketer(
    brand: Brand,
    email: str,
    *,
    name: str = "",
    role: MarketerRole = MarketerRole.EDITOR,
    actor: str,
    now: datetime,
) -> Marketer:
    address = normalise_email(email)
    try:
        marketer = await Marketer.create(brand=brand, email=address, name=name.strip(), role=role)
    except IntegrityError:
        raise Conflict(
            N_("%(email)s can already use this brand's console."), "marketer_exists", email=address
        ) from None
    await audit.record(
        actor=actor, action="marketer.added", brand=brand, target=address, now=now, role=role
    )
    return marketer


async def invite_marketer(
    brand: Brand,
    email: str,
    *,
    name: str,
    role: MarketerRole = MarketerRole.EDITOR,
    invited_by: Marketer,
    links: Links,
    locale: str,
    now: datetime,
) -> tuple[Marketer, Outbox]:
    """Let another address into the brand's console and queue the email telling them."""
    async with in_transaction():
        marketer = await add_marketer(
            brand, email, name=name, role=role, actor=invited_by.email, now=now
        )
        message = await mail.queue(
            kind="invitation",
            dedupe_key=f"invitation:{marketer.id}",
            template="invitation",
            to_email=marketer.email,
            to_name=marketer.name,
            locale=locale,
            now=now,
            reply_to=invited_by.email,
            brand=brand,
            links=links,
            inviter=invited_by.name or invited_by.email,
            link=links.console_sign_in(brand.slug),
        )
    return marketer, message


async def team(brand: Brand) -> list[Marketer]:
    return await Marketer.filter(brand=brand).order_by("email")


def parse_role(value: str) -> MarketerRole:
    try:
        return MarketerRole(value)
    except ValueError:
        raise InvalidInput(
            N_("Choose a role: owner, editor or viewer."), "bad_role", role=excerpt(value)
        ) from None


async def _member(brand: Brand, marketer_id: int) -> Marketer:
    member = await Marketer.filter(id=marketer_id, brand=brand).first()
    if member is None:
        raise NotFound(N_("This person is not on the brand's team."), "member_not_found")
    return member


async def _keep_an_owner(brand: Brand, leaving: Marketer) -> None:
    """Refuse a change that would leave the brand without an owner.

    Called inside the change's transaction after locking the brand's row, so that two
    owners demoting each other at once cannot both pass the count.
    """
    await Brand.filter(id=brand.id).select_for_update().first()
    if leaving.role != MarketerRole.OWNER:
        return
    owners = await Marketer.filter(brand=brand, role=MarketerRole.OWNER).count()
    if owners <= 1:
        raise Conflict(
            N_(
                "%(email)s is the brand's last owner: make someone else an owner first, "
                "so that somebody can still manage the team."
            ),
            "last_owner",
            email=leaving.email,
        )


async def change_role(
    brand: Brand, marketer_id: int, role: MarketerRole, *, actor: str, now: datetime
) -> Marketer:
    """Give a member of the team another role; never the brand's last owner away."""
    async with in_transaction():
        member = await _member(brand, marketer_id)
        if member.role == role:
            return member
        if role != MarketerRole.OWNER:
            await _keep_an_owner(brand, member)
        before = member.role
        member.role = role
        await member.save(update_fields=["role"])
        await audit.record(
            actor=actor,
            action="marketer.role",
            brand=brand,
            target=member.email,
            now=now,
            before=before.value,
            after=role.value,
        )
    return member


async def remove_marketer(brand: Brand, marketer_id: int, *, actor: str, now: datetime) -> Marketer:
    """Take someone off the brand's team; never its last owner."""
    async with in_transaction():
        member = await _member(brand, marketer_id)
        await _keep_an_owner(brand, member)
        await member.delete()
        await audit.record(
            actor=actor,
            action="marketer.removed",
            brand=brand,
            target=member.email,
            now=now,
            role=member.role.value,
        )
    return member


async def set_signature(marketer: Marketer, name: str) -> None:
    """The name this marketer signs replies with: participants are answered by a person,
    not by the brand's logo."""
    words = " ".join(name.split())
    if not words:
        raise InvalidInput(N_("Write the name you sign your replies with."), "signature_required")
    marketer.name = words
    await marketer.save(update_fields=["name"])


async def set_time_zone(marketer: Marketer, zone: str) -> None:
    """The zone this marketer reads the console's times in."""
    marketer.time_zone = check_zone(zone)
    await marketer.save(update_fields=["time_zone"])


async def may_create_brands(participant: Participant) -> bool:
    """Owners of a brand may start another one (an agency, a second shop); everyone
    else asks an owner or the operator, so that no passer-by opens a console."""
    return await Marketer.filter(participant=participant, role=MarketerRole.OWNER).exists()


async def brands_of(participant: Participant) -> list[Brand]:
    """The brands whose console this account may use."""
    roles = await Marketer.filter(participant=participant).prefetch_related("brand")
    return sorted((role.brand for role in roles), key=lambda b: b.name)


ROLE_REFUSALS = {
    MarketerRole.VIEWER: N_("You cannot see this brand's console."),
    MarketerRole.EDITOR: N_(
        "Your role on this brand lets you read, not change: ask an owner to make you an editor."
    ),
    MarketerRole.OWNER: N_("Only the brand's owners can change the brand and its team."),
}


async def marketer_for(
    participant: Participant | None, brand_slug: str, needed: MarketerRole = MarketerRole.VIEWER
) -> Marketer:
    """The marketer role that lets this account act on this brand, or NotAllowed when
    its role is below ``needed``."""
    if participant is None:
        raise NotAllowed(N_("Sign in to use the console."), "sign_in_required")
    role = await Marketer.filter(participant=participant, brand__slug=brand_slug).first()
    if role is None:
        raise NotFound(N_("There is no brand here that you manage."), "brand_not_found")
    if not role.role.allows(needed):
        raise NotAllowed(ROLE_REFUSALS[needed], "role_too_low")
    await role.fetch_related("brand")
    return role


async def link_marketer_roles(participant: Participant, verified_email: str) -> None:
    """Invitations are by email: a verified address claims its pending roles."""
    await Marketer.filter(email=verified_email.lower(), participant_id=None).update(
        participant_id=participant.id
    )


async def check_may_create_brands(participant: Participant) -> None:
    if not await may_create_brands(participant):
        raise NotAllowed(
            N_("Only the owner of a brand can create another one: ask an operator."),
            "may_not_create_brands",
        )
