"""The demo organization, Northwind Labs: vendors, engagements and a dated roster.

Everything is created through the services (``create_organization``, ``add_member``,
``save_vendor_record``, ``save_roster_record``) acting as the demo owner, so every domain rule
applies and the audit log shows the history. Dates are relative to today, so certifications
expire and assignments end at realistic moments whenever the demo is loaded.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from partnerscope.engagements.models import Assignment, Engagement, Identity, Person
from partnerscope.engagements.services import save_roster_record
from partnerscope.orgs.models import Membership, Organization
from partnerscope.orgs.roles import Role
from partnerscope.orgs.scoping import TenantModel
from partnerscope.orgs.services import add_member, create_organization
from partnerscope.sourcing.models import PersonSkill
from partnerscope.sourcing.services import save_person_skill
from partnerscope.vendors.models import (
    CaseStudy,
    Certification,
    Contact,
    RateCardLine,
    Skill,
    Vendor,
    VendorEmailDomain,
    VendorLocation,
    VendorSkill,
)
from partnerscope.vendors.services import save_vendor_record

DEMO_SLUG = "northwind"
DEMO_NAME = "Northwind Labs"
DEFAULT_PASSWORD = "partnerscope-demo"  # noqa: S105 - the published demo password
CLIENT_DOMAIN = "northwind.example"

# --- Vendors --------------------------------------------------------------------------------
# key: (name, legal name, status, headquarters, website, description, internal notes)
VENDORS = {
    "vistula": (
        "Vistula Software",
        "Vistula Software sp. z o.o.",
        Vendor.Status.ACTIVE,
        "Poland",
        "https://vistula-software.example",
        "Nearshore dedicated teams for JVM and React products; 300 engineers across three Polish cities.",
        "Strategic partner for payments. Rates renegotiated each January; ask for a 3 % volume discount above 12 FTE.",
    ),
    "kaveri": (
        "Kaveri Technologies",
        "Kaveri Technologies Pvt. Ltd.",
        Vendor.Status.ACTIVE,
        "India",
        "https://kaveri-tech.example",
        "Offshore delivery centre for mobile, .NET and QA, with follow-the-sun support.",
        "Good value on fixed-price work; watch the ISO 27001 renewal, it lapsed this year.",
    ),
    "andes": (
        "Andes Talent",
        "Andes Talent S.A.S.",
        Vendor.Status.ACTIVE,
        "Colombia",
        "https://andes-talent.example",
        "Latin-American staff augmentation for data and platform engineering, in US time zones.",
        "Engineers join our squads directly; two-week notice per person.",
    ),
    "bastion": (
        "Bastion Security & QA",
        "Bastion Security OÜ",
        Vendor.Status.ACTIVE,
        "Estonia",
        "https://bastion-qa.example",
        "A small specialist firm: penetration testing, secure code review and test automation.",
        "CREST renewal due soon; required by our PCI auditor.",
    ),
    "lumen": (
        "Lumen Digital",
        "Lumen Digital Lda.",
        Vendor.Status.PROSPECT,
        "Portugal",
        "https://lumendigital.example",
        "Product design and full-stack web studio in Lisbon and Porto.",
        "Met at a conference; candidate for the customer-portal redesign next year.",
    ),
}

DOMAINS = {
    "vistula": ["vistula-software.example"],
    "kaveri": ["kaveri-tech.example", "kaveri.example"],
    "andes": ["andes-talent.example"],
    "bastion": ["bastion-qa.example"],
    "lumen": ["lumendigital.example"],
}

# (vendor, city, country, IANA time zone, headcount)
LOCATIONS = [
    ("vistula", "Kraków", "Poland", "Europe/Warsaw", 180),
    ("vistula", "Gdańsk", "Poland", "Europe/Warsaw", 90),
    ("vistula", "Wrocław", "Poland", "Europe/Warsaw", 45),
    ("kaveri", "Bengaluru", "India", "Asia/Kolkata", 650),
    ("kaveri", "Pune", "India", "Asia/Kolkata", 300),
    ("andes", "Medellín", "Colombia", "America/Bogota", 70),
    ("andes", "Buenos Aires", "Argentina", "America/Argentina/Buenos_Aires", 40),
    ("andes", "Mexico City", "Mexico", "America/Mexico_City", 35),
    ("bastion", "Tallinn", "Estonia", "Europe/Tallinn", 24),
    ("bastion", "Tartu", "Estonia", "Europe/Tallinn", 8),
    ("lumen", "Lisbon", "Portugal", "Europe/Lisbon", 60),
    ("lumen", "Porto", "Portugal", "Europe/Lisbon", 25),
]

# vendor: [(skill from the seeded taxonomy, level 1-5, headcount)]
SKILLS = {
    "vistula": [
        ("Java", 5, 60),
        ("Kotlin", 4, 25),
        ("Spring", 5, 55),
        ("React", 4, 40),
        ("TypeScript", 4, 45),
        ("PostgreSQL", 4, 35),
        ("AWS", 4, 30),
        ("Kubernetes", 4, 18),
        ("Test automation", 3, 20),
    ],
    "kaveri": [
        ("Swift", 4, 35),
        ("Kotlin", 4, 40),
        ("Flutter", 3, 25),
        ("Java", 4, 120),
        (".NET", 4, 80),
        ("Azure", 3, 30),
        ("Manual QA", 4, 60),
        ("Test automation", 3, 40),
    ],
    "andes": [
        ("Python", 5, 45),
        ("SQL", 5, 50),
        ("Data engineering", 5, 30),
        ("Spark", 4, 15),
        ("dbt", 4, 12),
        ("Google Cloud", 3, 10),
        ("Terraform", 3, 8),
    ],
    "bastion": [
        ("Application security", 5, 9),
        ("Performance testing", 4, 6),
        ("Test automation", 4, 8),
        ("Manual QA", 4, 5),
    ],
    "lumen": [("React", 4, 12), ("Node.js", 4, 10), ("UX design", 4, 6), ("Product management", 3, 3)],
}

# (vendor, name, issuer, reference, issued: days from today, expires: days from today or None)
CERTIFICATIONS = [
    ("vistula", "ISO/IEC 27001:2022", "DNV", "C-PL-27001-0412", -700, 395),
    ("vistula", "ISO 9001:2015", "TÜV Rheinland", "QM-15-88231", -1060, 35),  # expiring soon
    ("kaveri", "ISO/IEC 27001:2013", "BSI", "IS 712204", -1140, -45),  # expired
    ("kaveri", "CMMI Level 3 (Development)", "CMMI Institute", "APPR-61877", -500, 595),
    ("kaveri", "SOC 2 Type II report", "Grant & Partners LLP", "", -120, 245),
    ("andes", "SOC 2 Type II report", "A-LIGN", "", -200, 165),
    ("andes", "Google Cloud Partner", "Google", "", -300, None),
    ("bastion", "CREST Penetration Testing", "CREST", "CRT-EE-0193", -250, 20),  # expiring soon
    ("bastion", "ISO/IEC 27001:2022", "Bureau Veritas", "EE-ISMS-2291", -300, 795),
]

# (vendor, title, client industry, years ago, summary)
CASE_STUDIES = [
    (
        "vistula",
        "Card-issuing platform for a Nordic neobank",
        "Fintech",
        1,
        "A 14-person team built and runs the card ledger and 3-D Secure flows; PCI DSS level 1.",
    ),
    (
        "vistula",
        "Warehouse management modernisation",
        "Logistics",
        2,
        "Strangled a 15-year-old monolith into Spring services over 18 months without downtime.",
    ),
    (
        "kaveri",
        "Patient app for a hospital network",
        "Healthcare",
        1,
        "iOS and Android apps for appointments and results, 400k monthly users.",
    ),
    (
        "kaveri",
        "Claims portal migration to Azure",
        "Insurance",
        3,
        "Moved a .NET claims portal to Azure App Service with a 24×7 support desk.",
    ),
    (
        "andes",
        "Lakehouse migration for a retail chain",
        "Retail",
        1,
        "Five data engineers moved nightly batch jobs to dbt and Spark on Google Cloud.",
    ),
    (
        "bastion",
        "Red-team exercise for a payments processor",
        "Payments",
        1,
        "Six-week assumed-breach exercise and remediation retest ahead of a PCI audit.",
    ),
    (
        "lumen",
        "Booking flow redesign for a travel marketplace",
        "Travel",
        1,
        "Research, design system and React rebuild; conversion up 11 %.",
    ),
]

# (vendor, name, role, e-mail, phone, primary)
CONTACTS = [
    ("vistula", "Anna Kowalczyk", "Account manager", "am@vistula-software.example", "+48 12 345 67 89", True),
    ("vistula", "Paweł Nowak", "Delivery director", "pawel.nowak@vistula-software.example", "", False),
    ("kaveri", "Neha Gupta", "Account manager", "am@kaveri-tech.example", "+91 80 4567 8901", True),
    ("kaveri", "Suresh Patel", "Head of delivery", "suresh.patel@kaveri-tech.example", "", False),
    (
        "andes",
        "Lucía Morales",
        "Client partner",
        "lucia.morales@andes-talent.example",
        "+57 604 555 0142",
        True,
    ),
    (
        "bastion",
        "Mart Saar",
        "Founder, security lead",
        "mart.saar@bastion-qa.example",
        "+372 5555 0199",
        True,
    ),
    ("lumen", "Inês Costa", "Business development", "ines.costa@lumendigital.example", "", True),
]

# (vendor, role, seniority, currency, rate, unit, period) — period "last" is last calendar year
# (an expired line), "current" is from January 1st this year, open-ended.
RATES = [
    ("vistula", "Backend engineer", "mid", "EUR", "52", "hour", "current"),
    ("vistula", "Backend engineer", "senior", "EUR", "64", "hour", "last"),
    ("vistula", "Backend engineer", "senior", "EUR", "68", "hour", "current"),
    ("vistula", "Frontend engineer", "senior", "EUR", "65", "hour", "current"),
    ("vistula", "DevOps engineer", "senior", "EUR", "70", "hour", "current"),
    ("vistula", "QA engineer", "mid", "EUR", "45", "hour", "current"),
    ("vistula", "Tech lead", "lead", "EUR", "74", "hour", "last"),
    ("vistula", "Tech lead", "lead", "EUR", "78", "hour", "current"),
    ("kaveri", "Mobile engineer", "mid", "USD", "30", "hour", "current"),
    ("kaveri", "Mobile engineer", "senior", "USD", "35", "hour", "last"),
    ("kaveri", "Mobile engineer", "senior", "USD", "38", "hour", "current"),
    ("kaveri", "Backend engineer", "senior", "USD", "40", "hour", "current"),
    ("kaveri", "QA engineer", "mid", "USD", "26", "hour", "current"),
    ("kaveri", "Delivery lead", "lead", "USD", "45", "hour", "current"),
    ("andes", "Data engineer", "mid", "USD", "45", "hour", "current"),
    ("andes", "Data engineer", "senior", "USD", "50", "hour", "last"),
    ("andes", "Data engineer", "senior", "USD", "55", "hour", "current"),
    ("andes", "Analytics engineer", "senior", "USD", "52", "hour", "current"),
    ("andes", "Platform engineer", "mid", "USD", "48", "hour", "current"),
    ("bastion", "Penetration tester", "senior", "EUR", "950", "day", "current"),
    ("bastion", "Security lead", "lead", "EUR", "1150", "day", "current"),
    ("bastion", "Test automation engineer", "senior", "EUR", "620", "day", "current"),
    ("lumen", "Full-stack engineer", "senior", "EUR", "58", "hour", "current"),
    ("lumen", "UX designer", "senior", "EUR", "60", "hour", "current"),
]

# --- Engagements ----------------------------------------------------------------------------
# key: (vendor, name, reference, model, status, start, end (days from today; None = open),
#       budget, currency, baseline FTE, flex band %, notice days, minimum commitment)
M, S = Engagement.Model, Engagement.Status
ENGAGEMENTS = {
    "payments": (
        "vistula", "Payments platform team", "MSA-2023-07 / SOW-3", M.DEDICATED_TEAM, S.ACTIVE,
        -540, None, "2400000", "EUR", "10", 15, 90, "1200000",
    ),
    "mobile": (
        "kaveri", "Mobile app rebuild", "SOW-KT-2024-02", M.FIXED_PRICE, S.ACTIVE,
        -300, 60, "850000", "USD", "8", 10, 30, None,
    ),
    "crm": (
        "kaveri", "Legacy CRM maintenance", "SOW-KT-2022-11", M.TIME_AND_MATERIALS, S.ENDED,
        -720, -120, "420000", "USD", "4", 25, 30, None,
    ),
    "data": (
        "andes", "Data platform augmentation", "SA-2024-001", M.STAFF_AUGMENTATION, S.ACTIVE,
        -400, None, "600000", "USD", "5", 20, 14, "150000",
    ),
    "security": (
        "bastion", "Security testing and QA retainer", "BSQ-RET-07", M.MANAGED_SERVICE, S.ACTIVE,
        -200, 165, "180000", "EUR", "1.5", 0, 60, "90000",
    ),
    "observability": (
        "andes", "Observability rollout", "SA-2024-001 / CO-2", M.TIME_AND_MATERIALS, S.PLANNED,
        30, 210, "120000", "USD", "2", 10, 14, None,
    ),
}  # fmt: skip

# What each engagement requires (skill coverage), and the skills of the vendor staff on it.
REQUIRED_SKILLS = {
    "payments": ["Python", "TypeScript", "DevOps", "Test automation"],
    "mobile": ["iOS", "Android", "TypeScript", "Test automation"],
    "crm": ["Java", "SQL"],
    "data": ["Python", "SQL", "dbt", "Terraform"],
    "security": ["Application security", "Test automation"],
}
STAFF_SKILLS = {
    "Katarzyna Wójcik": ["Python", "DevOps"], "Piotr Zieliński": ["Python"], "Agnieszka Lewandowska": ["Python"],
    "Michał Kamiński": ["TypeScript", "React"], "Tomasz Wiśniewski": ["DevOps", "Terraform"],
    "Jakub Mazur": ["Python"], "Ewa Dąbrowska": ["Test automation"], "Marta Nowicka": ["Application security"],
    "Priya Sharma": ["iOS", "Swift"], "Rohan Iyer": ["Android", "Kotlin"], "Sneha Reddy": ["TypeScript"],
    "Vikram Nair": ["Java", "SQL"], "Rahul Verma": ["Java"], "Diego Ramírez": ["Python", "SQL"],
    "Valentina Gómez": ["SQL", "dbt"], "Santiago Herrera": ["dbt"], "Camila Torres": ["Python", "Spark"],
    "Mateo Fernández": ["Terraform"], "Kristjan Tamm": ["Application security"],
    "Liis Kask": ["Test automation"],
}  # fmt: skip

# --- People and the dated roster ------------------------------------------------------------
# (name, login, GitHub user, title, location, assignments)
# assignment: (engagement or None, employer vendor or None = in-house, role, seniority, rate,
#              allocation %, from, to) — from/to in days from today, "start"/"end" for the
#              engagement's dates, to=None while it lasts. The currency is the engagement's.
PEOPLE = [
    # Vistula Software, payments team
    ("Katarzyna Wójcik", "katarzyna.wojcik", "kwojcik", "Tech lead", "Kraków", [
        ("payments", "vistula", "Tech lead", "lead", "78", 100, "start", None)]),
    ("Piotr Zieliński", "piotr.zielinski", "pzielinski-dev", "Backend engineer", "Kraków", [
        ("payments", "vistula", "Backend engineer", "senior", "68", 100, "start", None)]),
    ("Agnieszka Lewandowska", "agnieszka.lewandowska", "alewandowska", "Backend engineer", "Gdańsk", [
        ("payments", "vistula", "Backend engineer", "mid", "52", 100, -400, None)]),
    ("Michał Kamiński", "michal.kaminski", "mkaminski", "Frontend engineer", "Kraków", [
        ("payments", "vistula", "Frontend engineer", "senior", "65", 100, "start", None)]),
    ("Tomasz Wiśniewski", "tomasz.wisniewski", "twisniewski-ops", "DevOps engineer", "Gdańsk", [
        ("payments", "vistula", "DevOps engineer", "senior", "70", 100, -300, None)]),
    ("Jakub Mazur", "jakub.mazur", "jmazur", "Backend engineer", "Wrocław", [
        ("payments", "vistula", "Backend engineer", "junior", "38", 100, -180, None)]),
    # Rolled off the payments team a month ago.
    ("Ewa Dąbrowska", "ewa.dabrowska", "edabrowska-qa", "QA engineer", "Gdańsk", [
        ("payments", "vistula", "QA engineer", "mid", "45", 100, "start", -30)]),
    # The mover: QA at Vistula, then joined Bastion the next day.
    ("Marta Nowicka", "marta.nowicka", "mnowicka", "Security tester", "Gdańsk", [
        ("payments", "vistula", "QA engineer", "mid", "45", 100, "start", -61),
        ("security", "bastion", "Penetration tester", "senior", "950", 100, -60, "end")]),
    # Kaveri Technologies: mobile rebuild and the ended CRM contract
    ("Arjun Mehta", "arjun.mehta", "arjunmehta", "Delivery lead", "Bengaluru", [
        ("mobile", "kaveri", "Delivery lead", "lead", "45", 100, "start", "end")]),
    ("Priya Sharma", "priya.sharma", "priya-sharma-ios", "Mobile engineer (iOS)", "Bengaluru", [
        ("mobile", "kaveri", "Mobile engineer", "senior", "38", 100, "start", "end")]),
    ("Rohan Iyer", "rohan.iyer", "rohaniyer", "Mobile engineer (Android)", "Pune", [
        ("mobile", "kaveri", "Mobile engineer", "senior", "38", 100, "start", "end")]),
    ("Sneha Reddy", "sneha.reddy", "snehareddy", "Mobile engineer", "Bengaluru", [
        ("mobile", "kaveri", "Mobile engineer", "mid", "30", 100, -240, "end")]),
    ("Ananya Krishnan", "ananya.krishnan", "ananya-k", "QA engineer", "Pune", [
        ("mobile", "kaveri", "QA engineer", "mid", "26", 100, -200, "end")]),
    # Split half and half across two Kaveri engagements until the CRM contract ended.
    ("Vikram Nair", "vikram.nair", "vnair", "Backend engineer", "Bengaluru", [
        ("crm", "kaveri", "Backend engineer", "senior", "40", 50, "start", "end"),
        ("mobile", "kaveri", "Backend engineer", "senior", "40", 50, "start", "end")]),
    ("Rahul Verma", "rahul.verma", "rverma", "Backend engineer", "Pune", [
        ("crm", "kaveri", "Backend engineer", "senior", "40", 100, "start", "end")]),
    ("Deepa Menon", "deepa.menon", "deepamenon", "QA engineer", "Pune", [
        ("crm", "kaveri", "QA engineer", "mid", "26", 100, -600, -300)]),
    # Andes Talent, data platform
    ("Diego Ramírez", "diego.ramirez", "dramirez", "Data engineer", "Medellín", [
        ("data", "andes", "Data engineer", "senior", "55", 100, "start", None)]),
    ("Valentina Gómez", "valentina.gomez", "vgomez-data", "Data engineer", "Buenos Aires", [
        ("data", "andes", "Data engineer", "mid", "45", 100, "start", None)]),
    ("Santiago Herrera", "santiago.herrera", "sherrera", "Analytics engineer", "Mexico City", [
        ("data", "andes", "Analytics engineer", "senior", "52", 100, -250, None)]),
    ("Camila Torres", "camila.torres", "camitorres", "Data engineer", "Medellín", [
        ("data", "andes", "Data engineer", "senior", "55", 80, -120, None)]),
    ("Mateo Fernández", "mateo.fernandez", "mfernandez", "Platform engineer", "Buenos Aires", [
        ("data", "andes", "Platform engineer", "mid", "48", 100, "start", -90)]),
    # Bastion Security & QA, retainer
    ("Kristjan Tamm", "kristjan.tamm", "ktamm", "Security lead", "Tallinn", [
        ("security", "bastion", "Security lead", "lead", "1150", 50, "start", "end")]),
    ("Liis Kask", "liis.kask", "liiskask", "Test automation engineer", "Tallinn", [
        ("security", "bastion", "Test automation engineer", "senior", "620", 100, "start", "end")]),
    # Northwind's own staff (in-house: no vendor)
    ("Hannah Becker", "hannah.becker", "hbecker-nw", "Head of Engineering", "Berlin", [
        (None, None, "Head of Engineering", "principal", None, 100, -900, None)]),
    ("Oliver Schmidt", "oliver.schmidt", "oschmidt-nw", "Engineering manager", "Berlin", [
        ("payments", None, "Engineering manager", "lead", None, 50, "start", None),
        ("data", None, "Engineering manager", "lead", None, 50, "start", None)]),
    ("Daniel Osei", "daniel.osei", "dosei-nw", "Product manager", "London", [
        ("payments", None, "Product manager", "senior", None, 60, "start", None)]),
    ("Sophie Laurent", "sophie.laurent", "slaurent-nw", "Staff engineer", "Amsterdam", [
        ("mobile", None, "Staff engineer", "principal", None, 100, "start", "end")]),
    ("Lena Vogel", "lena.vogel", "lvogel-nw", "Security engineer", "Berlin", [
        ("security", None, "Security engineer", "senior", None, 30, "start", "end")]),
    ("Ben Carter", "ben.carter", "bcarter-nw", "Data analyst", "London", [
        ("data", None, "Data analyst", "mid", None, 100, -300, None)]),
]  # fmt: skip

# (e-mail, role, vendor key for vendor users)
LOGINS = [
    (f"owner@{CLIENT_DOMAIN}", Role.OWNER, None),
    (f"manager@{CLIENT_DOMAIN}", Role.MANAGER, None),
    (f"viewer@{CLIENT_DOMAIN}", Role.VIEWER, None),
    ("am@vistula-software.example", Role.VENDOR, "vistula"),
    ("am@kaveri-tech.example", Role.VENDOR, "kaveri"),
]


@dataclass
class DemoLogin:
    email: str
    role: str
    vendor: str = ""


@dataclass
class DemoResult:
    organization: Organization
    password: str
    created: bool
    logins: list[DemoLogin] = field(default_factory=list)


def demo_password() -> str:
    return os.environ.get("PARTNERSCOPE_DEMO_PASSWORD") or DEFAULT_PASSWORD


def demo_logins() -> list[DemoLogin]:
    return [
        DemoLogin(email, str(role), VENDORS[vendor][0] if vendor else "") for email, role, vendor in LOGINS
    ]


def load_demo(*, reset: bool = False) -> DemoResult:
    """Create Northwind Labs unless it exists; ``reset`` deletes and recreates it."""
    password = demo_password()
    with transaction.atomic():
        existing = Organization.objects.filter(slug=DEMO_SLUG).first()
        if existing is not None and not reset:
            return DemoResult(existing, password, created=False, logins=demo_logins())
        if existing is not None:
            delete_organization(existing)
        org = _build(password)
    # Outside the transaction: each sync batch commits on its own, as in production.
    from partnerscope.demo_history import load_demo_history
    from partnerscope.orgs.models import Membership

    owner = (
        Membership.objects.filter(organization=org, role="owner")
        .select_related("user", "organization")
        .first()
    )
    load_demo_history(owner)
    from partnerscope.demo_trackers import load_demo_trackers

    load_demo_trackers(owner)
    from partnerscope.demo_sprints import load_demo_sprints

    load_demo_sprints(owner)
    from partnerscope.metrics.engine import full_recompute, recompute_dirty

    full_recompute(org.id)  # scorecards from the evidence just loaded
    from partnerscope.sourcing.demo import load_sourcing_demo

    load_sourcing_demo(owner)  # shortlists and plans read the scorecards
    recompute_dirty(org.id)  # the in-house people's skills it adds count in skill coverage
    return DemoResult(org, password, created=True, logins=demo_logins())


def delete_organization(org: Organization) -> None:
    """Delete an organization and all its records (protected references go first)."""
    models = [m for m in apps.get_models() if issubclass(m, TenantModel)]
    for _ in range(len(models) + 1):
        blocked = []
        for model in models:
            try:
                model.objects.filter(organization=org).delete()
            except (ProtectedError, RestrictedError):
                blocked.append(model)
        if not blocked:
            break
        models = blocked
    org.delete()


def _user(email: str, password_hash: str):
    User = get_user_model()
    user = User.objects.filter(username__iexact=email).first() or User(username=email, email=email)
    user.password = password_hash
    user.save()
    return user


def _build(password: str) -> Organization:
    today = datetime.date.today()

    def day(offset: int | None) -> datetime.date | None:
        return None if offset is None else today + datetime.timedelta(days=offset)

    # One hash for the five demo users (the password is public anyway): hashing is slow on purpose.
    password_hash = make_password(password)
    owner = _user(LOGINS[0][0], password_hash)
    org = create_organization(slug=DEMO_SLUG, name=DEMO_NAME, owner=owner)
    actor = Membership.objects.select_related("user", "organization").get(organization=org, user=owner)

    def vendor_record(instance):
        return save_vendor_record(membership=actor, instance=instance)

    def roster_record(instance):
        return save_roster_record(membership=actor, instance=instance)

    vendors = {}
    for key, (name, legal, status, country, website, description, notes) in VENDORS.items():
        vendors[key] = vendor_record(
            Vendor(
                name=name,
                legal_name=legal,
                status=status,
                headquarters_country=country,
                website=website,
                description=description,
                internal_notes=notes,
            )
        )
    for key, domains in DOMAINS.items():
        for domain in domains:
            vendor_record(VendorEmailDomain(vendor=vendors[key], domain=domain))
    for key, city, country, tz, headcount in LOCATIONS:
        vendor_record(
            VendorLocation(vendor=vendors[key], city=city, country=country, timezone=tz, headcount=headcount)
        )
    skills = {s.name: s for s in Skill.objects.filter(organization=org)}
    for key, rows in SKILLS.items():
        for skill, level, headcount in rows:
            vendor_record(
                VendorSkill(vendor=vendors[key], skill=skills[skill], level=level, headcount=headcount)
            )
    for key, name, issuer, reference, issued, expires in CERTIFICATIONS:
        vendor_record(
            Certification(
                vendor=vendors[key],
                name=name,
                issuer=issuer,
                reference=reference,
                issued_on=day(issued),
                expires_on=day(expires),
            )
        )
    for key, title, industry, years_ago, summary in CASE_STUDIES:
        vendor_record(
            CaseStudy(
                vendor=vendors[key],
                title=title,
                client_industry=industry,
                year=today.year - years_ago,
                summary=summary,
            )
        )
    for key, name, role, email, phone, primary in CONTACTS:
        vendor_record(
            Contact(vendor=vendors[key], name=name, role=role, email=email, phone=phone, is_primary=primary)
        )
    periods = {
        "last": (datetime.date(today.year - 1, 1, 1), datetime.date(today.year - 1, 12, 31)),
        "current": (datetime.date(today.year, 1, 1), None),
    }
    for key, role, seniority, currency, rate, unit, period in RATES:
        valid_from, valid_to = periods[period]
        vendor_record(
            RateCardLine(
                vendor=vendors[key],
                role=role,
                seniority=seniority,
                currency=currency,
                rate=Decimal(rate),
                unit=unit,
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )

    skills = {skill.name: skill for skill in Skill.objects.filter(organization=org)}
    engagements = {}
    for key, row in ENGAGEMENTS.items():
        vendor, name, ref, model, status, start, end, budget, currency, fte, flex, notice, minimum = row
        engagements[key] = save_roster_record(
            membership=actor,
            required_skills=[skills[s] for s in REQUIRED_SKILLS.get(key, [])],
            instance=Engagement(
                vendor=vendors[vendor],
                name=name,
                reference=ref,
                model=model,
                status=status,
                start_date=day(start),
                end_date=day(end),
                budget=Decimal(budget),
                currency=currency,
                baseline_fte=Decimal(fte),
                flex_band_pct=flex,
                notice_period_days=notice,
                minimum_commitment=Decimal(minimum) if minimum else None,
            ),
        )

    for name, login, github, title, location, rows in PEOPLE:
        employers = [employer for _, employer, *_ in rows]
        domains = [DOMAINS[e][0] if e else CLIENT_DOMAIN for e in dict.fromkeys(employers)]
        person = roster_record(
            Person(name=name, email=f"{login}@{domains[-1]}", title=title, location=location)
        )
        for domain in domains:
            roster_record(Identity(person=person, kind=Identity.Kind.EMAIL, value=f"{login}@{domain}"))
        roster_record(Identity(person=person, kind=Identity.Kind.GIT_NAME, value=name))
        roster_record(Identity(person=person, kind=Identity.Kind.GITHUB, value=github))
        for skill in STAFF_SKILLS.get(name, []):
            save_person_skill(membership=actor, instance=PersonSkill(person=person, skill=skills[skill]))
        for eng_key, employer, role, seniority, rate, allocation, start, end in rows:
            engagement = engagements.get(eng_key)
            roster_record(
                Assignment(
                    person=person,
                    vendor=vendors[employer] if employer else None,
                    engagement=engagement,
                    role=role,
                    seniority=seniority,
                    rate=Decimal(rate) if rate else None,
                    currency=engagement.currency if engagement and rate else "",
                    allocation_pct=allocation,
                    valid_from=engagement.start_date if start == "start" else day(start),
                    valid_to=engagement.end_date if end == "end" else day(end),
                    # The contract names the leads and seniors staffed from its start.
                    key_person=bool(employer) and start == "start" and seniority in ("lead", "senior"),
                    # People who joined later filled a staffing request approved two to five
                    # weeks before they started (time to staff).
                    requested_on=day(start) - datetime.timedelta(weeks=2 + len(name) % 4)
                    if engagement and start != "start"
                    else None,
                )
            )

    for email, role, vendor in LOGINS[1:]:
        user = _user(email, password_hash)
        add_member(
            actor=actor, organization=org, user=user, role=role, vendor=vendors[vendor] if vendor else None
        )
    return org
