"""Fixed choice lists shared by several fields (codes are stored; labels are zh/en; a fourth
item lists the other words clerks write for a choice, which typing and imports accept).

Lists a custodian should be able to extend are code tables (catalog.py), not these.
"""

GENDER = (("M", "男", "Male", ("男性", "先生")), ("F", "女", "Female", ("女性", "女士")))

CUSTOMER_TYPE = (("person", "个人", "Person"), ("org", "企业", "Organisation"))

CUSTOMER_CATEGORY = (
    ("end_user", "最终用户", "End user"),
    ("dealer", "经销商", "Dealer"),
    ("agent", "代理商", "Agent"),
    ("partner", "合作伙伴", "Partner"),
    ("other", "其他", "Other"),
)

EDUCATION = (
    ("primary", "小学及以下", "Primary school"),
    ("secondary", "初中", "Junior middle school"),
    ("high", "高中/中专", "High school"),
    ("college", "大专", "College"),
    ("bachelor", "本科", "Bachelor"),
    ("master", "硕士", "Master"),
    ("doctor", "博士", "Doctorate"),
)

INCOME_LEVEL = (
    ("low", "5千元以下/月", "Below ¥5k/month"),
    ("lower_middle", "5千–1万元/月", "¥5k–10k/month"),
    ("middle", "1万–3万元/月", "¥10k–30k/month"),
    ("upper_middle", "3万–5万元/月", "¥30k–50k/month"),
    ("high", "5万元以上/月", "Above ¥50k/month"),
)

CREDIT_RATING = (
    ("AAA", "AAA 信用极好", "AAA excellent"),
    ("AA", "AA 信用优良", "AA very good"),
    ("A", "A 信用较好", "A good"),
    ("B", "B 信用一般", "B fair"),
    ("C", "C 信用较差", "C poor"),
)

PAYMENT_TERMS = (
    ("prepaid", "预付款", "Prepayment"),
    ("cash", "现款现货", "Cash on order"),
    ("cod", "货到付款", "Cash on delivery"),
    ("net30", "月结30天", "Net 30"),
    ("net60", "月结60天", "Net 60"),
    ("net90", "月结90天", "Net 90"),
)

PAYMENT_METHOD = (
    ("cash", "现金", "Cash", ("现款", "现钞")),
    ("transfer", "银行转账", "Bank transfer", ("转账", "汇款", "银行汇款", "电汇", "对公转账", "网银")),
    ("card", "刷卡", "Card", ("POS", "POS机", "银行卡", "信用卡")),
    ("wechat", "微信支付", "WeChat Pay", ("微信", "微信转账")),
    ("alipay", "支付宝", "Alipay", ("支付宝转账",)),
    ("cheque", "支票", "Cheque"),
    ("credit", "赊账", "On credit", ("赊帐", "挂账", "挂帐", "月结")),
)

RESPONSE_LEVEL = (
    ("active", "积极", "Responsive"),
    ("neutral", "一般", "Neutral"),
    ("cold", "冷淡", "Unresponsive"),
)

NEW_PRODUCT_APPETITE = (
    ("early", "乐于尝新", "Early adopter"),
    ("wait", "观望", "Waits and sees"),
    ("conservative", "保守", "Conservative"),
)

LOCATION_TYPE = (
    ("business_centre", "商业中心", "Business centre"),
    ("transport_hub", "交通枢纽", "Transport hub"),
    ("residential", "居民区", "Residential area"),
    ("other", "其他", "Other"),
)

COMPANY_SIZE = (
    ("micro", "微型(10人以下)", "Micro (<10)"),
    ("small", "小型(10–99人)", "Small (10–99)"),
    ("medium", "中型(100–999人)", "Medium (100–999)"),
    ("large", "大型(1000人以上)", "Large (1000+)"),
)

VALUE_GRADE = (
    ("A", "A级", "Grade A"),
    ("B", "B级", "Grade B"),
    ("C", "C级", "Grade C"),
    ("D", "D级", "Grade D"),
)

STAGE = (
    ("potential", "潜在客户", "Potential"),
    ("current", "现有客户", "Current"),
    ("former", "旧客户", "Former"),
)

DEAL_ROLE = (
    ("decision_maker", "决策人", "Decision maker", ("决策者", "拍板人")),
    ("influencer", "影响者", "Influencer", ("影响人",)),
    ("user", "使用者", "User", ("使用人", "用户")),
    ("purchaser", "采购人", "Purchaser", ("采购", "采购员", "采购者")),
    ("other", "其他", "Other"),
)

CONTACT_METHOD = (
    ("visit", "走访", "Visit", ("拜访", "上门", "上门拜访", "登门拜访", "实地拜访", "现场拜访", "面访", "面谈")),
    ("phone", "电话", "Phone call", ("打电话", "电话拜访", "电话联系", "电话沟通", "电访", "致电", "来电", "Call")),
    ("email", "电子邮件", "E-mail", ("邮件", "电邮", "发邮件")),
    ("message", "短信/微信", "Message", ("短信", "微信", "发短信", "发微信", "微信沟通", "QQ", "SMS", "WeChat")),
)

AFTER_SALES_KIND = (
    ("service", "售后服务", "Service"),
    ("complaint", "投诉", "Complaint"),
    ("return", "退货", "Return"),
)

CASE_STATUS = (
    ("open", "处理中", "Open"),
    ("closed", "已关闭", "Closed"),
)

RATING = tuple((str(n), f"{n}分", f"{n} of 5") for n in range(1, 6))

PROMOTION_TYPE = (
    ("price_cut", "降价", "Price cut"),
    ("phone", "电话促销", "Phone promotion"),
    ("event", "业务推广", "Business event"),
    ("broadcast", "广播型广告", "Broadcast advertising"),
    ("mail", "邮寄/直邮", "Direct mail"),
    ("sms", "短信", "SMS"),
    ("email", "电子邮件", "E-mail"),
    ("gift", "赠品", "Gift"),
)

PROMOTION_RESPONSE = (
    ("none", "未回应", "No response"),
    ("interested", "有兴趣", "Interested"),
    ("purchased", "已购买", "Purchased"),
    ("declined", "拒绝", "Declined"),
)

SATISFACTION = (
    ("high", "满意", "Satisfied"),
    ("medium", "一般", "Neutral"),
    ("low", "不满意", "Dissatisfied"),
)

PROJECT_STATUS = (
    ("planning", "计划中", "Planning"),
    ("evaluating", "评估中", "Evaluating"),
    ("negotiating", "谈判中", "Negotiating"),
    ("won", "已成交", "Won"),
    ("lost", "已失去", "Lost"),
)

# 省级行政区: the code is the Chinese name, as it is printed on an envelope.
PROVINCE = tuple((zh, zh, en) for zh, en in (
    ("北京市", "Beijing"), ("天津市", "Tianjin"), ("河北省", "Hebei"), ("山西省", "Shanxi"),
    ("内蒙古自治区", "Inner Mongolia"), ("辽宁省", "Liaoning"), ("吉林省", "Jilin"),
    ("黑龙江省", "Heilongjiang"), ("上海市", "Shanghai"), ("江苏省", "Jiangsu"), ("浙江省", "Zhejiang"),
    ("安徽省", "Anhui"), ("福建省", "Fujian"), ("江西省", "Jiangxi"), ("山东省", "Shandong"),
    ("河南省", "Henan"), ("湖北省", "Hubei"), ("湖南省", "Hunan"), ("广东省", "Guangdong"),
    ("广西壮族自治区", "Guangxi"), ("海南省", "Hainan"), ("重庆市", "Chongqing"), ("四川省", "Sichuan"),
    ("贵州省", "Guizhou"), ("云南省", "Yunnan"), ("西藏自治区", "Tibet"), ("陕西省", "Shaanxi"),
    ("甘肃省", "Gansu"), ("青海省", "Qinghai"), ("宁夏回族自治区", "Ningxia"),
    ("新疆维吾尔自治区", "Xinjiang"), ("台湾省", "Taiwan"), ("香港特别行政区", "Hong Kong"),
    ("澳门特别行政区", "Macao"),
))
