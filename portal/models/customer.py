"""The customer archive card (客户档案卡) and its lifecycle history."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fields import Section, describe, register_model

from . import choices as C
from .base import SYSTEM, JSONDocument, Stamped, Versioned
from .consent import CONSENT, opt_out_columns

# The card's fieldsets, in the order of DOMAIN.md.
CUSTOMER_SECTIONS = (
    Section("basic", "基本信息", "Basic data"),
    Section("contact", "地址与联系方式", "Address and contact"),
    Section("credit", "信用情况", "Credit"),
    Section("preferences", "行为爱好", "Behaviour and preferences"),
    Section("organisation", "企业信息", "Organisation"),
    Section("business", "业务信息", "Business"),
    Section("source", "客户来源", "Source"),
    Section("lifecycle", "生命周期", "Lifecycle"),
    Section("verification", "档案审查", "Verification"),
    CONSENT,
    SYSTEM,
)

customer_tag = sa.Table(
    "customer_tag",
    Model.metadata,
    sa.Column("customer_id", sa.ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)


# Foreign keys most cards leave empty (ix_customer_<column>, migration 0012).
SPARSE_KEYS = ("industry_id", "team_id", "source_id", "referred_by_id")


def _not_null(column: str) -> dict:
    """A partial index's predicate, the same on both databases."""
    where = sa.text(f"{column} IS NOT NULL")
    return {"postgresql_where": where, "sqlite_where": where}


@register_model(*CUSTOMER_SECTIONS)
class Customer(Stamped, Versioned, Model):
    """A person or an organisation the company trades with, or hopes to."""

    __tablename__ = "customer"
    __table_args__ = (
        sa.Index("ix_customer_stage_grade", "stage", "value_grade"),
        # Sparse columns (most cards hold none): NULLs are left out of their indexes (migration
        # 0012), so a card without one costs those indexes no entry on each insert and update;
        # an equality, a LIKE or a foreign key's check still uses them.
        sa.Index("ix_customer_region_route", "region_id", "route_id", "route_order", **_not_null("region_id")),
        *(sa.Index(f"ix_customer_{column}", column, **_not_null(column)) for column in SPARSE_KEYS),
        # PostgreSQL: LIKE 'x%' (quick search) needs the pattern operator class (migration 0005).
        sa.Index("ix_customer_email", "email", postgresql_ops={"email": "varchar_pattern_ops"}, **_not_null("email")),
        # The grid sorts by a listed column, then by id in the same direction (migration 0005).
        *(sa.Index(f"ix_customer_{column}", column, "id") for column in (
            "customer_type", "province", "city", "phone", "mobile", "region_id", "value_grade", "owner_id", "stage")),
        # PostgreSQL: LIKE 'KH2026%' on the number (quick search); SQLite's copy is empty.
        sa.Index("ix_customer_number_prefix", "number", postgresql_ops={"number": "varchar_pattern_ops"},
                 sqlite_where=sa.false()),
    )

    id: Mapped[int] = mapped_column(primary_key=True)

    # -- basic 基本信息 -------------------------------------------------------------------
    number: Mapped[str] = mapped_column(
        sa.String(32), unique=True, nullable=False,
        info=describe("客户编号", "Customer number", "text", "basic", listed=True, searchable=True,
                      max_length=32, aliases=("编号", "客户代码", "客户编码", "客户号", "No", "Customer No", "Customer ID"),
                      help_zh="留空则按规则自动生成", help_en="Left empty, it is generated from the pattern"),
    )
    name: Mapped[str] = mapped_column(
        sa.String(200), nullable=False, index=True,
        info=describe("客户名称", "Name", "text", "basic", required=True, listed=True, searchable=True,
                      max_length=200, aliases=("名称", "公司名称", "企业名称", "单位名称", "客户", "客户姓名", "姓名", "Customer", "Customer name", "Company")),
    )
    customer_type: Mapped[str] = mapped_column(
        sa.String(16), nullable=False, default="org",
        info=describe("客户类型", "Customer type", "choice", "basic", required=True, listed=True,
                      choices=C.CUSTOMER_TYPE, aliases=("类型", "个人/企业", "Type")),
    )
    category: Mapped[str | None] = mapped_column(
        sa.String(16),
        info=describe("客户类别", "Category", "choice", "basic", choices=C.CUSTOMER_CATEGORY, aliases=("类别",)),
    )
    gender: Mapped[str | None] = mapped_column(
        sa.String(1), info=describe("性别", "Gender", "choice", "basic", choices=C.GENDER, aliases=("Sex",)),
    )
    birth_date: Mapped[dt.date | None] = mapped_column(
        sa.Date,
        info=describe("出生日期", "Birth date", "date", "basic", not_future=True,
                      aliases=("生日", "出生年月", "出生年月日", "Birthday", "Date of birth")),
    )
    id_number: Mapped[str | None] = mapped_column(
        sa.String(18),
        info=describe("身份证号", "ID card number", "id_number", "basic", sensitive=True,
                      aliases=("身份证", "身份证号码", "证件号码", "ID number")),
    )
    credit_code: Mapped[str | None] = mapped_column(
        sa.String(18), unique=True,
        info=describe("统一社会信用代码", "Unified social credit code", "text", "basic", max_length=18,
                      aliases=("信用代码", "税号", "纳税人识别号", "营业执照号", "Tax ID")),
    )
    occupation: Mapped[str | None] = mapped_column(
        sa.String(100), info=describe("工作类型", "Occupation", "text", "basic", max_length=100, aliases=("职业",)),
    )
    income_level: Mapped[str | None] = mapped_column(
        sa.String(16),
        info=describe("收入水平", "Income level", "choice", "basic", sensitive=True, choices=C.INCOME_LEVEL,
                      aliases=("收入", "月收入", "Income")),
    )
    family_status: Mapped[str | None] = mapped_column(
        sa.String(200),
        info=describe("家庭情况", "Family situation", "text", "basic", max_length=200, aliases=("家庭状况",)),
    )
    education: Mapped[str | None] = mapped_column(
        sa.String(16), info=describe("学历", "Education", "choice", "basic", choices=C.EDUCATION, aliases=("文化程度",)),
    )

    # -- address and contact 地址与联系方式 ----------------------------------------------
    province: Mapped[str | None] = mapped_column(
        sa.String(16),
        info=describe("省份", "Province", "choice", "contact", listed=True, choices=C.PROVINCE, aliases=("省", "省/直辖市", "所属省份", "所在省份")),
    )
    city: Mapped[str | None] = mapped_column(
        sa.String(50), info=describe("城市", "City", "text", "contact", listed=True, max_length=50, aliases=("市", "地级市", "所属城市", "所在城市")),
    )
    district: Mapped[str | None] = mapped_column(
        sa.String(50), info=describe("区县", "District", "text", "contact", max_length=50, aliases=("区", "县", "区/县", "所属区县")),
    )
    street: Mapped[str | None] = mapped_column(
        sa.String(200),
        info=describe("详细地址", "Street address", "text", "contact", max_length=200,
                      aliases=("地址", "街道地址", "通讯地址", "通信地址", "联系地址", "企业地址", "Address")),
    )
    postcode: Mapped[str | None] = mapped_column(
        sa.String(6), info=describe("邮编", "Postal code", "postcode", "contact", aliases=("邮政编码", "Zip", "Postcode")),
    )
    phone: Mapped[str | None] = mapped_column(
        sa.String(32),
        info=describe("电话", "Phone", "phone", "contact", listed=True, searchable=True,
                      aliases=("固定电话", "座机", "联系电话", "电话号码", "办公电话", "Tel", "Telephone")),
    )
    mobile: Mapped[str | None] = mapped_column(
        sa.String(11),
        info=describe("手机", "Mobile", "mobile", "contact", listed=True, searchable=True,
                      aliases=("手机号", "手机号码", "移动电话", "Cell", "Cellphone", "Mobile phone")),
    )
    fax: Mapped[str | None] = mapped_column(
        sa.String(32), info=describe("传真", "Fax", "phone", "contact", aliases=("传真号码",)),
    )
    email: Mapped[str | None] = mapped_column(
        sa.String(200),
        info=describe("电子邮箱", "E-mail", "email", "contact", searchable=True,
                      aliases=("邮箱", "邮箱地址", "电子邮件", "Email", "E-mail address", "E-mail地址")),
    )
    website: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("网址", "Website", "url", "contact", aliases=("网站", "主页", "公司网址", "Web")),
    )

    # -- credit 信用情况 ------------------------------------------------------------------
    credit_limit: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(14, 2),
        info=describe("信贷限额", "Credit limit", "money", "credit", sensitive=True, min_value=0,
                      aliases=("信用额度", "授信额度")),
    )
    credit_rating: Mapped[str | None] = mapped_column(
        sa.String(8),
        info=describe("信用等级", "Credit rating", "choice", "credit", sensitive=True, choices=C.CREDIT_RATING,
                      aliases=("信用评级",)),
    )
    loyalty_index: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("忠诚度指数", "Loyalty index", "int", "credit", min_value=0, max_value=100,
                      aliases=("忠诚度",), help_zh="0–100", help_en="0–100"),
    )
    potential_spend_index: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("潜在消费指数", "Potential-spend index", "int", "credit", min_value=0, max_value=100,
                      aliases=("消费潜力",), help_zh="0–100", help_en="0–100"),
    )
    credit_report_date: Mapped[dt.date | None] = mapped_column(
        sa.Date,
        info=describe("信用调查日期", "Credit report date", "date", "credit", not_future=True,
                      aliases=("信用报告日期", "资信调查日期")),
    )
    credit_report_valid_months: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("报告有效期(月)", "Report validity (months)", "int", "credit", min_value=3, max_value=12,
                      aliases=("有效期",), help_zh="3–12个月，过期须重新调查",
                      help_en="3–12 months; an expired report must be re-investigated"),
    )
    payment_terms: Mapped[str | None] = mapped_column(
        sa.String(16),
        info=describe("付款条件", "Payment terms", "choice", "credit", choices=C.PAYMENT_TERMS, aliases=("结算方式", "账期")),
    )
    bank_name: Mapped[str | None] = mapped_column(
        sa.String(100), info=describe("开户银行", "Bank", "text", "credit", max_length=100, aliases=("开户行",)),
    )
    bank_account: Mapped[str | None] = mapped_column(
        sa.String(32),
        info=describe("银行账号", "Bank account / card number", "card_number", "credit", sensitive=True,
                      aliases=("账号", "银行卡号", "卡号", "Account number")),
    )

    # -- behaviour and preferences 行为爱好 ----------------------------------------------
    lifestyle: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("生活方式", "Lifestyle", "text", "preferences", max_length=200),
    )
    hobbies: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("爱好", "Hobbies", "text", "preferences", max_length=200, aliases=("兴趣爱好",)),
    )
    product_preferences: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("产品偏好", "Product preferences", "text", "preferences", max_length=500),
    )
    service_preferences: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("服务偏好", "Service preferences", "text", "preferences", max_length=500),
    )
    questionnaire_response: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("问卷反馈", "Questionnaire responses", "longtext", "preferences"),
    )
    promotion_response: Mapped[str | None] = mapped_column(
        sa.String(16),
        info=describe("对促销的反应", "Response to promotions", "choice", "preferences", choices=C.RESPONSE_LEVEL),
    )
    new_product_appetite: Mapped[str | None] = mapped_column(
        sa.String(16),
        info=describe("对新产品的态度", "Appetite for new products", "choice", "preferences",
                      choices=C.NEW_PRODUCT_APPETITE),
    )

    # -- organisation 企业信息 ------------------------------------------------------------
    ownership_type_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ownership_type.id"),
        info=describe("所有制", "Ownership type", "relation", "organisation", relation="ownership_type",
                      aliases=("所有制形式", "企业性质")),
    )
    channel_type_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("channel_type.id"),
        info=describe("客户性质", "Channel type", "relation", "organisation", relation="channel_type",
                      aliases=("渠道类型", "经营方式")),
    )
    location_type: Mapped[str | None] = mapped_column(
        sa.String(20),
        info=describe("地域", "Location type", "choice", "organisation", choices=C.LOCATION_TYPE, aliases=("地段",)),
    )
    industry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("industry.id"),
        info=describe("行业", "Industry", "relation", "organisation", relation="industry", aliases=("所属行业",)),
    )
    company_size: Mapped[str | None] = mapped_column(
        sa.String(16),
        info=describe("企业规模", "Company size", "choice", "organisation", choices=C.COMPANY_SIZE, aliases=("规模",)),
    )
    employee_count: Mapped[int | None] = mapped_column(
        sa.Integer, info=describe("员工人数", "Employees", "int", "organisation", min_value=0, aliases=("人数",)),
    )
    founded_on: Mapped[dt.date | None] = mapped_column(
        sa.Date,
        info=describe("成立日期", "Founded on", "date", "organisation", not_future=True, aliases=("成立时间", "注册日期")),
    )
    registered_capital: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(16, 2),
        info=describe("注册资本(元)", "Registered capital (¥)", "money", "organisation", min_value=0, aliases=("注册资本",)),
    )
    legal_representative: Mapped[str | None] = mapped_column(
        sa.String(50),
        info=describe("法人代表", "Legal representative", "text", "organisation", max_length=50, aliases=("法定代表人", "法人")),
    )
    org_structure: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("组织结构", "Organisation structure", "longtext", "organisation"),
    )

    # -- business 业务信息 ----------------------------------------------------------------
    region_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("region.id"),
        info=describe("所属地区", "Region", "relation", "business", listed=True, relation="region",
                      aliases=("地区", "所在地区", "区域", "片区")),
    )
    route_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("route.id"),
        info=describe("线路", "Route", "relation", "business", relation="route", aliases=("路线",)),
    )
    route_order: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("路序", "Order on route", "int", "business", min_value=1, aliases=("拜访顺序", "送货顺序")),
    )
    price_list_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("price_list.id"),
        info=describe("价格表", "Price list", "relation", "business", relation="price_list", aliases=("默认价格表",)),
    )
    value_grade: Mapped[str | None] = mapped_column(
        sa.String(1),
        info=describe("客户等级", "Grade", "choice", "business", listed=True, choices=C.VALUE_GRADE,
                      aliases=("价值等级", "等级", "级别")),
    )
    is_core: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false(),
        info=describe("核心客户", "Core customer", "bool", "business", aliases=("重点客户", "大客户")),
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id"),
        info=describe("业务员", "Salesperson", "relation", "business", listed=True, relation="owner",
                      aliases=("负责人", "销售员", "客户经理", "Owner")),
    )
    team_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sales_team.id"),
        info=describe("业务团队", "Team", "relation", "business", relation="team", aliases=("团队", "部门")),
    )
    tags = relationship(
        "Tag", secondary=customer_tag, order_by="Tag.sort_order",
        info=describe("标签", "Tags", "relation_many", "business", aliases=("标记",)),
    )

    # -- source 客户来源 ------------------------------------------------------------------
    source_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customer_source.id"),
        info=describe("客户来源", "Source", "relation", "source", relation="source", aliases=("来源", "渠道")),
    )
    referred_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customer.id"),
        info=describe("推荐客户", "Referred by customer", "relation", "source", relation="referred_by",
                      aliases=("推荐人", "介绍人")),
    )
    referred_by_employee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id"),
        info=describe("推荐员工", "Referred by employee", "relation", "source", relation="referred_by_employee"),
    )
    source_detail: Mapped[str | None] = mapped_column(
        sa.String(200),
        info=describe("来源说明", "Source details", "text", "source", max_length=200,
                      help_zh="如展会名称、名单供应商、广告媒体", help_en="Trade fair, list vendor, advert …"),
    )
    acquired_on: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("获取日期", "Acquired on", "date", "source", not_future=True, aliases=("建档日期",)),
    )

    # -- lifecycle 生命周期 ---------------------------------------------------------------
    stage: Mapped[str] = mapped_column(
        sa.String(16), nullable=False, default="potential", server_default="potential",
        info=describe("客户阶段", "Stage", "choice", "lifecycle", listed=True, readonly=True, choices=C.STAGE,
                      aliases=("阶段", "状态")),
    )
    stage_since: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("阶段开始日期", "In stage since", "date", "lifecycle", readonly=True),
    )
    first_trade_on: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("首次交易日期", "First transaction", "date", "lifecycle", readonly=True),
    )
    last_trade_on: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("最近交易日期", "Last transaction", "date", "lifecycle", readonly=True),
    )
    stop_reason: Mapped[str | None] = mapped_column(
        sa.String(500),
        info=describe("中断交易原因", "Reason for stopping", "text", "lifecycle", readonly=True, max_length=500),
    )

    # -- verification 档案审查 ------------------------------------------------------------
    verified_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id"),
        info=describe("审核人", "Verified by", "relation", "verification", relation="verified_by", readonly=True),
    )
    verified_on: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("审核日期", "Verified on", "date", "verification", readonly=True),
    )
    verification_note: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("审核说明", "Verification note", "text", "verification", max_length=500),
    )

    # -- consent 联系许可 (models/consent.py) --------------------------------------------
    mail_opt_out, mail_opt_out_on, mail_opt_out_source = opt_out_columns("mail")
    sms_opt_out, sms_opt_out_on, sms_opt_out_source = opt_out_columns("sms")
    email_opt_out, email_opt_out_on, email_opt_out_source = opt_out_columns("email")

    # Search keys derived from the name (services/pinyin.py): not fields of the card.
    name_pinyin: Mapped[str | None] = mapped_column(sa.String(400), index=True)
    name_initials: Mapped[str | None] = mapped_column(sa.String(100), index=True)

    # Custom fields a custodian defines: a row in a table, values here (no migration).
    custom_fields: Mapped[dict | None] = mapped_column(JSONDocument, nullable=True)

    region = relationship("Region")
    route = relationship("Route")
    price_list = relationship("PriceList")
    ownership_type = relationship("OwnershipType")
    channel_type = relationship("ChannelType")
    industry = relationship("Industry")
    source = relationship("Source")
    owner = relationship("User", foreign_keys=[owner_id])
    team = relationship("SalesTeam")
    referred_by = relationship("Customer", remote_side=[id], foreign_keys=[referred_by_id], backref="referrals")
    referred_by_employee = relationship("User", foreign_keys=[referred_by_employee_id])
    verified_by = relationship("User", foreign_keys=[verified_by_id])

    @property
    def is_verified(self) -> bool:
        return self.verified_on is not None

    def __str__(self) -> str:
        return f"{self.number} {self.name}" if self.number else (self.name or "")


@register_model(Section("basic", "阶段变化", "Stage change"))
class LifecycleEvent(Model):
    """One transition of a customer's stage: 潜在 → 现有 → 旧客户 (and back)."""

    __tablename__ = "lifecycle_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True,
        info=describe("客户", "Customer", "relation", "basic", listed=True, relation="customer", readonly=True),
    )
    from_stage: Mapped[str | None] = mapped_column(
        sa.String(16), info=describe("原阶段", "From", "choice", "basic", listed=True, readonly=True, choices=C.STAGE),
    )
    to_stage: Mapped[str] = mapped_column(
        sa.String(16), nullable=False,
        info=describe("新阶段", "To", "choice", "basic", listed=True, readonly=True, choices=C.STAGE),
    )
    occurred_on: Mapped[dt.date] = mapped_column(
        sa.Date, nullable=False, info=describe("日期", "Date", "date", "basic", listed=True, readonly=True),
    )
    reason: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("原因", "Reason", "text", "basic", listed=True, readonly=True),
    )
    transaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("trade.id", ondelete="SET NULL"),
        info=describe("触发交易", "Transaction", "relation", "basic", listed=True, relation="transaction", readonly=True),
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id"),
        info=describe("操作人", "By", "relation", "basic", listed=True, relation="user", readonly=True),
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime, nullable=False, default=lambda: dt.datetime.now().replace(microsecond=0),
        info=describe("记录时间", "Recorded at", "datetime", "basic", readonly=True),
    )

    customer = relationship("Customer", backref=sa.orm.backref(
        "lifecycle_events", cascade="all, delete-orphan", passive_deletes=True, order_by="LifecycleEvent.id"))
    transaction = relationship("Transaction")
    user = relationship("User")
