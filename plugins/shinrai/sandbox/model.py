"""Records of the synthetic organisation (plain slotted dataclasses, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .shapes import DEFAULT as DEFAULT_SHAPE
from .shapes import Shape

SEVERITIES: tuple[str, ...] = ("SEV1", "SEV2", "SEV3", "SEV4")
SEVERITY_WEIGHTS: tuple[float, ...] = (5, 20, 40, 35)
DETECTION_ROUTES: tuple[str, ...] = ("System alert", "Customer inquiry", "Internal report", "Business SOS")
DETECTION_WEIGHTS: tuple[float, ...] = (50, 25, 15, 10)
CAUSE_CATEGORIES: tuple[str, ...] = (
    "Code defect", "Configuration error", "Capacity", "Infrastructure failure",
    "Third-party outage", "Data issue", "Operational mistake", "Security vulnerability",
)
CAUSE_WEIGHTS: tuple[float, ...] = (38, 14, 10, 9, 8, 10, 8, 3)
DEVELOPMENT_CATEGORIES: tuple[str, ...] = (
    "New feature", "Regular release", "Hotfix", "Infrastructure change",
    "Configuration change", "Data migration", "Third party", "No change",
)
# Values planted outside the taxonomy (data-quality defects).
UNKNOWN_CAUSES: tuple[str, ...] = ("Human error", "その他")
UNKNOWN_DEVELOPMENT: tuple[str, ...] = ("Refactoring", "不明")

INCIDENT_STATUSES: tuple[str, ...] = ("Open", "Investigating", "Mitigated", "Closed")
POSTMORTEM_STATUSES: tuple[str, ...] = ("Draft", "In Review", "Published")
ACTION_STATUSES: tuple[str, ...] = ("To Do", "In Progress", "Done", "Won't Do")
RISK_STATUSES: tuple[str, ...] = ("Open", "Investigating", "Mitigating", "Monitoring", "Closed")
RISK_PRIORITIES: tuple[str, ...] = ("High", "Medium", "Low")


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    name: str
    name_ja: str
    project_key: str
    channel: str
    project_id: int
    release_weekday: int  # 0 = Monday
    weight: float


PRODUCTS: tuple[Product, ...] = (
    Product("payroll", "Payroll", "給与計算", "PAY", "prod-payroll", 10001, 1, 0.22),
    Product("attendance", "Attendance", "勤怠管理", "ATT", "prod-attendance", 10002, 2, 0.22),
    Product("expense", "Expense", "経費精算", "EXP", "prod-expense", 10003, 3, 0.16),
    Product("invoice", "Invoice", "請求書", "INV", "prod-invoice", 10004, 1, 0.14),
    Product("hr", "HR Core", "人事労務", "HRC", "prod-hr", 10005, 2, 0.14),
    Product("accounting", "Accounting", "会計", "ACC", "prod-accounting", 10006, 3, 0.12),
)
PRODUCT_BY_CODE: dict[str, Product] = {p.code: p for p in PRODUCTS}
PRODUCT_BY_KEY: dict[str, Product] = {p.project_key: p for p in PRODUCTS}
INCIDENT_PROJECT_KEY = "INC"
INCIDENT_PROJECT_ID = 10000


@dataclass(slots=True)
class Person:
    index: int
    given: str
    family: str
    given_ja: str | None
    family_ja: str | None
    email: str
    display_name: str
    jira_account_id: str
    notion_id: str
    slack_id: str
    product: str
    left: bool = False

    @property
    def handle(self) -> str:
        return self.email.split("@", 1)[0]

    @property
    def real_name(self) -> str:
        return f"{self.given} {self.family}"


@dataclass(slots=True)
class Release:
    index: int
    product: str
    kind: str  # "Regular" | "Hotfix"
    at: float
    version_id: int = 0
    name: str = ""
    page_id: str = ""
    page_created: float = 0.0
    page_edited: float = 0.0
    description_override: str | None = None
    title_override: str | None = None
    trashed: bool = False  # Notion calendar page in trash
    version_deleted: bool = False  # Jira version deleted

    def released(self, anchor_t: float) -> bool:
        return self.at <= anchor_t


@dataclass(slots=True)
class Issue:
    """A Jira issue: incident, postmortem or prevention action."""

    kind: str  # "incident" | "postmortem" | "action"
    gen: int  # generation index within its kind (seeds lazily rendered text)
    project: str
    product: str
    created: float
    status0: str = ""  # status at generation (changelog is derived from it)
    resolved0: float | None = None
    id: int = 0
    number: int = 0
    updated: float = 0.0
    status: str = ""
    resolved: float | None = None
    assignee: int | None = None
    reporter: int = 0
    text_variant: int = 0
    text_style: int = 0
    summary_override: str | None = None
    description_extra: str | None = None
    labels: tuple[str, ...] = ()
    # incident fields
    severity: str | None = None
    severity0: str | None = None  # first rating (re-rated incidents get a changelog item)
    introduced: float | None = None
    occurred: float | None = None
    detected: float | None = None
    acknowledged: float | None = None
    mitigated: float | None = None
    recovered: float | None = None
    route: str | None = None
    cause: str | None = None
    devcat: str | None = None
    release: int | None = None  # index of the release that caused it (ground truth)
    # links
    link_to: int | None = None  # postmortem -> incident id, action -> postmortem id
    linked_from: list[int] = field(default_factory=list)  # incident <- postmortem, postmortem <- actions
    due: str | None = None  # ISO date
    due0: str | None = None  # initial due date when it was moved later
    due_changed: float | None = None  # when the due date was moved
    started: float | None = None  # postmortem In Review / action In Progress since
    chatty: int = 0  # extra noisy changelog histories
    extra_histories: list[dict] | None = None
    deleted: bool = False
    # the whole lifecycle of a record open on the reference day or created after it (gen_later), of which
    # the anchor shows the stages reached: incident (acknowledged, mitigated, recovered, resolved, commander,
    # first severity), postmortem (started, resolved), action (started, resolved, final status, due, due0,
    # due_changed); None for the reference day's closed records
    full: tuple | None = None

    @property
    def key(self) -> str:
        return f"{self.project}-{self.number}"


@dataclass(slots=True)
class RiskRecord:
    index: int
    page_id: str
    created: float
    edited: float
    title_variant: int
    subsystem: str
    status: str
    priority: str
    assignees: tuple[int, ...]
    product: str
    recognized: float
    recognized_date_only: bool
    last_reviewed: str | None  # ISO date
    dashboard: str
    backlog: str | None
    related: tuple[str, ...]
    creator: int
    title_override: str | None = None
    trashed: bool = False


@dataclass(slots=True)
class Channel:
    index: int
    id: str
    name: str
    kind: str  # "incident" | "release" | "product" | "team"
    is_private: bool
    created: float
    creator: int
    product: str | None = None
    issue_id: int | None = None
    n_top: int = 0
    n_reply: int = 0
    unposted_top: int = 0  # of n_top, messages an incident still open at the anchor has not posted yet
    unposted_replies: int = 0
    archived: bool = False
    topic: str = ""
    purpose: str = ""


@dataclass(slots=True)
class Bot:
    user_id: str
    bot_id: str
    app_id: str
    name: str


@dataclass
class Org:
    seed: int
    scale: float
    anchor: date
    anchor_t: float
    history_start: date
    team_formed: date
    products: tuple[Product, ...]
    people: list[Person]
    releases: list[Release]
    issues: list[Issue]
    risks: list[RiskRecord]
    channels: list[Channel]
    incident_bot: Bot
    release_bot: Bot
    workflow_bot: Bot
    team_id: str
    notion_bot_id: str
    defects: list[dict]
    malformed: list[dict]
    duplicate_issue_id: int
    by_id: dict[int, Issue] = field(default_factory=dict)
    by_key: dict[str, Issue] = field(default_factory=dict)
    reference_t: float = 0.0  # midnight of the reference day: what lies before it is the same at every anchor
    shape: Shape = DEFAULT_SHAPE  # how the servers represent it (shapes.py); never what it contains

    def index(self) -> None:
        self.by_id = {i.id: i for i in self.issues}
        self.by_key = {i.key: i for i in self.issues}

    def live_issues(self, kind: str) -> list[Issue]:
        return [i for i in self.issues if i.kind == kind and not i.deleted]
