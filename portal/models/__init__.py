"""The archive's tables, one module per aggregate. Importing this package maps them all."""
from flask_appbuilder.security.sqla.models import User  # noqa: F401  (relationships name "User")

from .catalog import (  # noqa: F401
    ChannelType, Industry, OwnershipType, PriceList, Product, ProductCategory, Region, Route, Source, Tag,
)
from .team import SalesTeam, team_member  # noqa: F401
from .customer import Customer, LifecycleEvent, customer_tag  # noqa: F401
from .contact import Contact  # noqa: F401
from .trade import AfterSales, Transaction, TransactionLine  # noqa: F401
from .visit import Visit  # noqa: F401
from .planning import ReminderDone, VisitRule  # noqa: F401
from .marketing import Promotion, PromotionTarget  # noqa: F401
from .key_account import CompetitorPresence, PurchaseProject  # noqa: F401
from .numbering import NumberSequence  # noqa: F401
from .audit import AccessLog, ChangeLog  # noqa: F401
from .grid import GridBatch, GridView  # noqa: F401
from .imports import ImportBatch, ImportMapping, ImportRow, ImportWritten  # noqa: F401
from .classification import ClassificationResult, ClassificationRun, GradeProposal  # noqa: F401
