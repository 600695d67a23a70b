"""The demo archive: one user per role and a realistic Chinese customer archive.

Two halves, kept apart so the data can be checked without a database:

* :func:`generate` is a pure function of the seed: plain dicts (customers, contacts,
  transactions with their lines, formers, after-sales, visits, promotions, key-account
  projects and competitors). It uses ``random.Random(seed)`` only and every date is
  anchored to :data:`DEMO_TODAY`, never to the real date.
* :func:`load_demo` writes them through the ORM and the services: numbers come from
  ``services.numbering``, amounts from ``services.trade`` (from the lines), stage changes
  from ``services.lifecycle`` (the first transaction makes a card current, the flush hook
  records it; ``mark_former`` turns a card former with its reason).

Keys of a generated dict that start with ``_`` are references (a customer index, a code,
a username) resolved at write time; the others are column values.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from decimal import Decimal


DEMO_TODAY = dt.date(2026, 11, 1)
DEMO_PASSWORD = "Demo@2026!"
WINDOW_START = dt.date(2023, 11, 1)   # three years of transactions before DEMO_TODAY
N_CUSTOMERS = 330

CENT = Decimal("0.01")

# ---------------------------------------------------------------------------------------
# Users and teams
# ---------------------------------------------------------------------------------------

EAST, NORTH = "华东业务部", "华北业务部"

# username, given name (first_name), surname (last_name), role, team
DEMO_USERS = (
    {"username": "admin", "first_name": "建国", "last_name": "王", "role": "Admin"},
    {"username": "custodian", "first_name": "秀英", "last_name": "郑", "role": "Custodian"},
    {"username": "clerk", "first_name": "婷", "last_name": "何", "role": "Clerk"},
    {"username": "zhangwei", "first_name": "伟", "last_name": "张", "role": "Salesperson", "team": EAST},
    {"username": "lina", "first_name": "娜", "last_name": "李", "role": "Salesperson", "team": EAST},
    {"username": "wangfang", "first_name": "芳", "last_name": "王", "role": "Salesperson", "team": EAST},
    {"username": "liuyang", "first_name": "洋", "last_name": "刘", "role": "Salesperson", "team": NORTH},
    {"username": "chenjing", "first_name": "静", "last_name": "陈", "role": "Salesperson", "team": NORTH},
    {"username": "zhaolei", "first_name": "磊", "last_name": "赵", "role": "Salesperson", "team": NORTH},
    {"username": "zhouqiang", "first_name": "强", "last_name": "周", "role": "SalesManager", "team": EAST},
    {"username": "wumin", "first_name": "敏", "last_name": "吴", "role": "SalesManager", "team": NORTH},
    {"username": "marketing", "first_name": "晓燕", "last_name": "孙", "role": "Marketing"},
    {"username": "auditor", "first_name": "志强", "last_name": "钱", "role": "Auditor"},
)
USER_EMAIL_DOMAIN = "demo.example.com"

DEMO_TEAMS = (
    {"name": EAST, "manager": "zhouqiang", "members": ("zhangwei", "lina", "wangfang"),
     "regions": ("EC", "SC", "CC")},
    {"name": NORTH, "manager": "wumin", "members": ("liuyang", "chenjing", "zhaolei"),
     "regions": ("NC", "NE", "NW", "SW")},
)
SALESPEOPLE = tuple(u["username"] for u in DEMO_USERS if u["role"] == "Salesperson")
TEAM_OF = {u["username"]: u["team"] for u in DEMO_USERS if u.get("team")}
MANAGER_OF_TEAM = {t["name"]: t["manager"] for t in DEMO_TEAMS}

ROLE_LABELS = {"Admin": ("系统管理员", "Admin")}  # the others come from seeds/roles.json

# ---------------------------------------------------------------------------------------
# Places: province → cities (area code, local number length), districts with their postal
# code and resident-ID region code, and streets.
# ---------------------------------------------------------------------------------------

REGION_OF_PROVINCE = {
    **dict.fromkeys(("上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省"), "EC"),
    **dict.fromkeys(("北京市", "天津市", "河北省", "山西省", "内蒙古自治区"), "NC"),
    **dict.fromkeys(("广东省", "广西壮族自治区", "海南省"), "SC"),
    **dict.fromkeys(("河南省", "湖北省", "湖南省"), "CC"),
    **dict.fromkeys(("重庆市", "四川省", "贵州省", "云南省"), "SW"),
    **dict.fromkeys(("陕西省", "甘肃省", "宁夏回族自治区"), "NW"),
    **dict.fromkeys(("辽宁省", "吉林省", "黑龙江省"), "NE"),
}
ROUTE_OF_PROVINCE = {
    "上海市": "EC-01", "江苏省": "EC-01", "安徽省": "EC-01",
    "浙江省": "EC-02", "福建省": "EC-02", "江西省": "EC-02", "山东省": "EC-02",
    "北京市": "NC-01", "天津市": "NC-01", "河北省": "NC-02", "山西省": "NC-02", "内蒙古自治区": "NC-02",
    "广东省": "SC-01", "广西壮族自治区": "SC-01", "海南省": "SC-01",
    "河南省": "CC-01", "湖北省": "CC-01", "湖南省": "CC-01",
    "重庆市": "SW-01", "四川省": "SW-01", "贵州省": "SW-01", "云南省": "SW-01",
    "陕西省": "NW-01", "甘肃省": "NW-01", "宁夏回族自治区": "NW-01",
    "辽宁省": "NE-01", "吉林省": "NE-01", "黑龙江省": "NE-01",
}
# Who covers a province (a few cards are owned by a colleague, as in real life).
TERRITORY = {
    "浙江省": "zhangwei", "上海市": "zhangwei",
    "江苏省": "lina", "安徽省": "lina", "山东省": "lina",
    "福建省": "wangfang", "江西省": "wangfang", "广东省": "wangfang", "广西壮族自治区": "wangfang",
    "海南省": "wangfang", "河南省": "wangfang", "湖北省": "wangfang", "湖南省": "wangfang",
    "北京市": "liuyang", "天津市": "liuyang", "河北省": "liuyang",
    "山西省": "chenjing", "内蒙古自治区": "chenjing", "辽宁省": "chenjing", "吉林省": "chenjing",
    "黑龙江省": "chenjing",
    "重庆市": "zhaolei", "四川省": "zhaolei", "贵州省": "zhaolei", "云南省": "zhaolei",
    "陕西省": "zhaolei", "甘肃省": "zhaolei", "宁夏回族自治区": "zhaolei",
}

# (province, city, pinyin abbreviation, area code, local digits, weight, districts)
# district: (name, postcode, ID region code, streets)
CITIES = (
    ("浙江省", "杭州市", "hz", "571", 8, 40, (
        ("上城区", "310002", "330102", ("解放路", "延安路", "清泰街", "望江路")),
        ("西湖区", "310012", "330106", ("文三路", "天目山路", "古墩路", "文一西路")),
        ("拱墅区", "310011", "330105", ("莫干山路", "湖墅南路", "上塘路")),
        ("滨江区", "310051", "330108", ("江南大道", "网商路", "滨盛路")),
        ("萧山区", "311200", "330109", ("市心中路", "金城路", "人民路")),
        ("余杭区", "311100", "330110", ("文一西路", "临平大道", "南苑街")),
    )),
    ("浙江省", "宁波市", "nb", "574", 8, 12, (
        ("海曙区", "315000", "330203", ("中山西路", "解放南路", "药行街")),
        ("鄞州区", "315100", "330212", ("天童南路", "四明中路", "钱湖北路")),
        ("江北区", "315020", "330205", ("人民路", "大庆南路")),
    )),
    ("浙江省", "温州市", "wz", "577", 8, 8, (
        ("鹿城区", "325000", "330302", ("车站大道", "人民中路", "学院中路")),
        ("瓯海区", "325005", "330304", ("温瑞大道", "娄桥路")),
    )),
    ("浙江省", "绍兴市", "sx", "575", 8, 6, (
        ("越城区", "312000", "330602", ("解放北路", "中兴中路")),
        ("柯桥区", "312030", "330603", ("柯华路", "笛扬路")),
    )),
    ("浙江省", "嘉兴市", "jx", "573", 8, 4, (("南湖区", "314000", "330402", ("中山东路", "禾兴南路")),)),
    ("浙江省", "金华市", "jh", "579", 8, 5, (
        ("婺城区", "321000", "330702", ("八一南街", "宾虹路")),
        ("义乌市", "322000", "330782", ("稠州北路", "工人北路", "国际商贸城福田路")),
    )),
    ("上海市", "上海市", "sh", "21", 8, 22, (
        ("黄浦区", "200001", "310101", ("南京东路", "西藏中路", "福州路")),
        ("徐汇区", "200030", "310104", ("漕溪北路", "肇嘉浜路", "宜山路")),
        ("长宁区", "200050", "310105", ("天山路", "延安西路", "仙霞路")),
        ("静安区", "200040", "310106", ("南京西路", "常德路", "共和新路")),
        ("浦东新区", "200120", "310115", ("世纪大道", "张杨路", "浦东南路")),
        ("闵行区", "201100", "310112", ("莘庄沪闵路", "七莘路", "都市路")),
    )),
    ("江苏省", "南京市", "nj", "25", 8, 12, (
        ("玄武区", "210018", "320102", ("中山路", "珠江路", "北京东路")),
        ("秦淮区", "210001", "320104", ("中山东路", "太平南路", "龙蟠中路")),
        ("鼓楼区", "210009", "320106", ("中山北路", "汉中路", "湖南路")),
        ("江宁区", "211100", "320115", ("双龙大道", "天元中路")),
    )),
    ("江苏省", "苏州市", "sz", "512", 8, 12, (
        ("姑苏区", "215000", "320508", ("人民路", "干将西路", "十全街")),
        ("吴中区", "215100", "320506", ("东吴北路", "宝带西路")),
        ("虎丘区", "215011", "320505", ("长江路", "狮山路")),
        ("昆山市", "215300", "320583", ("前进西路", "人民南路")),
    )),
    ("江苏省", "无锡市", "wx", "510", 8, 6, (
        ("梁溪区", "214000", "320213", ("中山路", "人民中路")),
        ("滨湖区", "214071", "320211", ("太湖大道", "梁溪路")),
    )),
    ("江苏省", "常州市", "cz", "519", 8, 4, (
        ("天宁区", "213000", "320402", ("延陵西路", "关河东路")),
        ("武进区", "213100", "320412", ("人民东路", "延政中大道")),
    )),
    ("安徽省", "合肥市", "hf", "551", 8, 7, (
        ("蜀山区", "230031", "340104", ("长江西路", "黄山路")),
        ("包河区", "230041", "340111", ("马鞍山路", "徽州大道")),
        ("庐阳区", "230001", "340103", ("阜南路", "长江中路")),
    )),
    ("安徽省", "芜湖市", "wh", "553", 7, 2, (("镜湖区", "241000", "340202", ("中山路", "北京中路")),)),
    ("福建省", "福州市", "fz", "591", 8, 5, (
        ("鼓楼区", "350001", "350102", ("五四路", "东街", "杨桥中路")),
        ("台江区", "350004", "350103", ("八一七中路", "工业路")),
    )),
    ("福建省", "厦门市", "xm", "592", 7, 5, (
        ("思明区", "361001", "350203", ("湖滨南路", "厦禾路", "中山路")),
        ("湖里区", "361006", "350206", ("嘉禾路", "湖里大道")),
    )),
    ("江西省", "南昌市", "nc", "791", 8, 4, (
        ("东湖区", "330006", "360102", ("八一大道", "中山路")),
        ("红谷滩区", "330038", "360113", ("红谷中大道", "丰和中大道")),
    )),
    ("山东省", "济南市", "jn", "531", 8, 6, (
        ("历下区", "250011", "370102", ("泉城路", "经十路", "解放路")),
        ("市中区", "250001", "370103", ("经七路", "英雄山路")),
    )),
    ("山东省", "青岛市", "qd", "532", 8, 6, (
        ("市南区", "266001", "370202", ("香港中路", "中山路", "东海西路")),
        ("崂山区", "266100", "370212", ("海尔路", "深圳路")),
        ("黄岛区", "266500", "370211", ("长江中路", "井冈山路")),
    )),
    ("山东省", "烟台市", "yt", "535", 7, 2, (("芝罘区", "264000", "370602", ("南大街", "北马路")),)),
    ("北京市", "北京市", "bj", "10", 8, 22, (
        ("东城区", "100010", "110101", ("东四北大街", "东直门南大街", "崇文门外大街")),
        ("西城区", "100032", "110102", ("西直门外大街", "金融大街", "西单北大街")),
        ("朝阳区", "100020", "110105", ("建国路", "朝阳门外大街", "东三环中路")),
        ("海淀区", "100080", "110108", ("中关村大街", "学院路", "北四环西路")),
        ("丰台区", "100071", "110106", ("丰台北路", "南三环西路")),
        ("大兴区", "102600", "110115", ("黄村西大街", "兴华大街")),
    )),
    ("天津市", "天津市", "tj", "22", 8, 8, (
        ("和平区", "300041", "120101", ("南京路", "滨江道")),
        ("河西区", "300202", "120103", ("友谊路", "解放南路")),
        ("南开区", "300100", "120104", ("鞍山西道", "南开三马路")),
        ("滨海新区", "300450", "120116", ("第二大街", "中心大道")),
    )),
    ("河北省", "石家庄市", "sjz", "311", 8, 5, (
        ("长安区", "050011", "130102", ("中山东路", "建设北大街")),
        ("桥西区", "050051", "130104", ("裕华西路", "友谊南大街")),
        ("裕华区", "050031", "130108", ("槐安东路", "建华南大街")),
    )),
    ("河北省", "保定市", "bd", "312", 7, 3, (("竞秀区", "071052", "130602", ("朝阳北大街", "东风西路")),)),
    ("山西省", "太原市", "ty", "351", 7, 4, (
        ("小店区", "030032", "140105", ("长风街", "平阳路")),
        ("迎泽区", "030001", "140106", ("迎泽大街", "五一路")),
    )),
    ("内蒙古自治区", "呼和浩特市", "hhht", "471", 7, 2, (
        ("新城区", "010050", "150102", ("新华大街", "兴安南路")),
        ("赛罕区", "010020", "150105", ("大学东街", "昭乌达路")),
    )),
    ("广东省", "广州市", "gz", "20", 8, 12, (
        ("天河区", "510620", "440106", ("天河路", "体育西路", "黄埔大道西")),
        ("越秀区", "510030", "440104", ("中山五路", "环市东路", "东风中路")),
        ("海珠区", "510220", "440105", ("江南大道中", "新港西路")),
        ("白云区", "510400", "440111", ("白云大道北", "机场路")),
        ("番禺区", "511400", "440113", ("市桥街繁华路", "番禺大道北")),
    )),
    ("广东省", "深圳市", "sz", "755", 8, 12, (
        ("福田区", "518000", "440304", ("深南中路", "福华路", "彩田路")),
        ("南山区", "518052", "440305", ("高新南一道", "南海大道", "科技中二路")),
        ("罗湖区", "518001", "440303", ("人民南路", "东门中路")),
        ("宝安区", "518101", "440306", ("宝安大道", "新湖路")),
        ("龙岗区", "518172", "440307", ("龙岗大道", "龙城大道")),
    )),
    ("广东省", "佛山市", "fs", "757", 8, 4, (
        ("禅城区", "528000", "440604", ("季华五路", "汾江中路")),
        ("顺德区", "528300", "440606", ("大良凤山中路", "容桂大道")),
    )),
    ("广西壮族自治区", "南宁市", "nn", "771", 7, 3, (
        ("青秀区", "530022", "450103", ("民族大道", "东葛路")),
        ("兴宁区", "530023", "450102", ("朝阳路", "民生路")),
    )),
    ("海南省", "海口市", "hk", "898", 8, 2, (
        ("龙华区", "570105", "460106", ("国贸大道", "金龙路")),
        ("美兰区", "570203", "460108", ("海府路", "海秀东路")),
    )),
    ("湖北省", "武汉市", "wh", "27", 8, 10, (
        ("江汉区", "430022", "420103", ("解放大道", "建设大道", "新华路")),
        ("武昌区", "430061", "420106", ("中南路", "中北路", "武珞路")),
        ("洪山区", "430070", "420111", ("珞喻路", "雄楚大道")),
        ("江岸区", "430010", "420102", ("沿江大道", "中山大道")),
    )),
    ("湖北省", "宜昌市", "yc", "717", 7, 2, (("西陵区", "443000", "420502", ("东山大道", "云集路")),)),
    ("湖南省", "长沙市", "cs", "731", 8, 6, (
        ("芙蓉区", "410011", "430102", ("五一大道", "芙蓉中路")),
        ("岳麓区", "410006", "430104", ("麓山南路", "桐梓坡路")),
        ("天心区", "410004", "430103", ("芙蓉南路", "书院路")),
    )),
    ("河南省", "郑州市", "zz", "371", 8, 6, (
        ("金水区", "450008", "410105", ("花园路", "经三路", "农业路")),
        ("二七区", "450052", "410103", ("大学路", "京广中路")),
        ("中原区", "450007", "410102", ("建设西路", "中原中路")),
    )),
    ("河南省", "洛阳市", "ly", "379", 8, 2, (("涧西区", "471003", "410305", ("中州西路", "南昌路")),)),
    ("重庆市", "重庆市", "cq", "23", 8, 7, (
        ("渝中区", "400010", "500103", ("民族路", "中山三路", "解放碑邹容路")),
        ("江北区", "400020", "500105", ("建新北路", "北城天街")),
        ("南岸区", "400060", "500108", ("南坪西路", "江南大道")),
        ("九龙坡区", "400050", "500107", ("杨家坪正街", "科园一路")),
    )),
    ("四川省", "成都市", "cd", "28", 8, 9, (
        ("锦江区", "610021", "510104", ("春熙路", "红星路三段", "东大街")),
        ("武侯区", "610041", "510107", ("人民南路四段", "科华北路", "一环路南四段")),
        ("青羊区", "610031", "510105", ("蜀都大道", "人民中路二段")),
        ("成华区", "610051", "510108", ("建设路", "双庆路")),
    )),
    ("四川省", "绵阳市", "my", "816", 7, 2, (("涪城区", "621000", "510703", ("临园路", "长虹大道")),)),
    ("贵州省", "贵阳市", "gy", "851", 8, 3, (
        ("南明区", "550001", "520102", ("中华南路", "遵义路")),
        ("云岩区", "550001", "520103", ("北京路", "中山西路")),
    )),
    ("云南省", "昆明市", "km", "871", 8, 4, (
        ("五华区", "650021", "530102", ("东风西路", "人民中路")),
        ("盘龙区", "650051", "530103", ("北京路", "白塔路")),
        ("官渡区", "650200", "530111", ("春城路", "关上中路")),
    )),
    ("陕西省", "西安市", "xa", "29", 8, 6, (
        ("雁塔区", "710061", "610113", ("长安南路", "小寨东路", "科技路")),
        ("碑林区", "710001", "610103", ("南大街", "东大街")),
        ("未央区", "710016", "610112", ("凤城八路", "未央路")),
    )),
    ("甘肃省", "兰州市", "lz", "931", 7, 2, (
        ("城关区", "730030", "620102", ("东岗西路", "庆阳路")),
        ("七里河区", "730050", "620103", ("西津西路", "建工西街")),
    )),
    ("宁夏回族自治区", "银川市", "yc", "951", 7, 1, (
        ("兴庆区", "750001", "640104", ("解放西街", "文化东街")),
        ("金凤区", "750002", "640106", ("北京中路", "宁安大街")),
    )),
    ("辽宁省", "沈阳市", "sy", "24", 8, 5, (
        ("和平区", "110001", "210102", ("中华路", "南京北街")),
        ("沈河区", "110011", "210103", ("青年大街", "北站路")),
        ("浑南区", "110179", "210112", ("浑南中路", "全运路")),
    )),
    ("辽宁省", "大连市", "dl", "411", 8, 4, (
        ("中山区", "116001", "210202", ("人民路", "中山路")),
        ("沙河口区", "116021", "210204", ("西安路", "五四路")),
    )),
    ("吉林省", "长春市", "cc", "431", 8, 3, (
        ("朝阳区", "130012", "220104", ("人民大街", "西安大路")),
        ("南关区", "130022", "220102", ("亚泰大街", "解放大路")),
    )),
    ("黑龙江省", "哈尔滨市", "hrb", "451", 8, 3, (
        ("南岗区", "150001", "230103", ("西大直街", "红军街")),
        ("道里区", "150010", "230102", ("中央大街", "友谊路")),
    )),
)

# ---------------------------------------------------------------------------------------
# Names (with pinyin for e-mail addresses)
# ---------------------------------------------------------------------------------------

SURNAMES = (
    ("王", "wang", 10), ("李", "li", 10), ("张", "zhang", 9), ("刘", "liu", 7), ("陈", "chen", 7),
    ("杨", "yang", 4), ("黄", "huang", 3), ("赵", "zhao", 3), ("吴", "wu", 3), ("周", "zhou", 3),
    ("徐", "xu", 2), ("孙", "sun", 2), ("马", "ma", 2), ("朱", "zhu", 2), ("胡", "hu", 2),
    ("郭", "guo", 2), ("何", "he", 2), ("林", "lin", 2), ("高", "gao", 2), ("罗", "luo", 1),
    ("郑", "zheng", 1), ("梁", "liang", 1), ("谢", "xie", 1), ("宋", "song", 1), ("唐", "tang", 1),
    ("韩", "han", 1), ("冯", "feng", 1), ("邓", "deng", 1), ("曹", "cao", 1), ("彭", "peng", 1),
    ("曾", "zeng", 1), ("肖", "xiao", 1), ("田", "tian", 1), ("董", "dong", 1), ("潘", "pan", 1),
    ("袁", "yuan", 1), ("蒋", "jiang", 1), ("蔡", "cai", 1), ("余", "yu", 1), ("杜", "du", 1),
    ("叶", "ye", 1), ("程", "cheng", 1), ("魏", "wei", 1), ("苏", "su", 1), ("沈", "shen", 1),
    ("姚", "yao", 1), ("钱", "qian", 1), ("陆", "lu", 1), ("方", "fang", 1), ("金", "jin", 1),
    ("欧阳", "ouyang", 1), ("诸葛", "zhuge", 1),
)
MALE_GIVEN = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"),
    ("涛", "tao"), ("斌", "bin"), ("超", "chao"), ("明", "ming"), ("刚", "gang"), ("平", "ping"),
    ("辉", "hui"), ("鹏", "peng"), ("华", "hua"), ("飞", "fei"), ("鑫", "xin"), ("波", "bo"),
    ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("建国", "jianguo"), ("志强", "zhiqiang"),
    ("海涛", "haitao"), ("建华", "jianhua"), ("晓东", "xiaodong"), ("国平", "guoping"), ("文博", "wenbo"),
    ("子轩", "zixuan"), ("宇航", "yuhang"), ("俊杰", "junjie"), ("德明", "deming"), ("永强", "yongqiang"),
    ("振华", "zhenhua"), ("立新", "lixin"), ("家豪", "jiahao"), ("天佑", "tianyou"), ("一鸣", "yiming"),
    ("卫东", "weidong"), ("红军", "hongjun"), ("学文", "xuewen"),
)
FEMALE_GIVEN = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"),
    ("娟", "juan"), ("霞", "xia"), ("秀英", "xiuying"), ("玲", "ling"), ("桂英", "guiying"), ("丹", "dan"),
    ("萍", "ping"), ("婷", "ting"), ("雪", "xue"), ("慧", "hui"), ("晶", "jing"), ("颖", "ying"),
    ("琳", "lin"), ("倩", "qian"), ("欣怡", "xinyi"), ("雨萱", "yuxuan"), ("佳琪", "jiaqi"),
    ("梦洁", "mengjie"), ("晓燕", "xiaoyan"), ("丽华", "lihua"), ("春梅", "chunmei"), ("红", "hong"),
    ("燕", "yan"), ("美玲", "meiling"), ("思雨", "siyu"), ("晓红", "xiaohong"), ("淑珍", "shuzhen"),
    ("文静", "wenjing"), ("雅婷", "yating"), ("海燕", "haiyan"),
)

BRANDS = (
    ("华信", "huaxin"), ("恒达", "hengda"), ("鑫源", "xinyuan"), ("宏远", "hongyuan"), ("金桥", "jinqiao"),
    ("天成", "tiancheng"), ("瑞丰", "ruifeng"), ("永兴", "yongxing"), ("盛世", "shengshi"), ("博远", "boyuan"),
    ("嘉禾", "jiahe"), ("远航", "yuanhang"), ("汇通", "huitong"), ("凯达", "kaida"), ("明德", "mingde"),
    ("德润", "derun"), ("信诚", "xincheng"), ("广源", "guangyuan"), ("海纳", "haina"), ("华腾", "huateng"),
    ("鼎盛", "dingsheng"), ("中联", "zhonglian"), ("新锐", "xinrui"), ("东升", "dongsheng"),
    ("长风", "changfeng"), ("启航", "qihang"), ("锦华", "jinhua"), ("同创", "tongchuang"), ("万方", "wanfang"),
    ("正阳", "zhengyang"), ("安泰", "antai"), ("百川", "baichuan"), ("卓越", "zhuoyue"), ("立达", "lida"),
    ("蓝海", "lanhai"), ("众诚", "zhongcheng"), ("三益", "sanyi"), ("金鼎", "jinding"), ("宏图", "hongtu"),
    ("九州", "jiuzhou"), ("亿联", "yilian"), ("旭日", "xuri"), ("佳和", "jiahe"), ("和信", "hexin"),
    ("龙腾", "longteng"), ("银河", "yinhe"), ("宝华", "baohua"), ("永盛", "yongsheng"), ("嘉诚", "jiacheng"),
    ("天合", "tianhe"), ("国信", "guoxin"), ("恒通", "hengtong"), ("融达", "rongda"), ("中天", "zhongtian"),
    ("华瑞", "huarui"), ("星辰", "xingchen"), ("奥美", "aomei"), ("通达", "tongda"), ("富源", "fuyuan"),
)

# industry code → (share, [(word, pinyin)], category weights (end_user, dealer, agent, partner, other))
INDUSTRIES = {
    "WHS": (25, (("贸易", "trade"), ("商贸", "trading"), ("办公用品", "office"), ("文化用品", "stationery"),
                 ("办公设备", "oa"), ("电脑", "pc")), (15, 55, 20, 7, 3)),
    "IT": (12, (("信息技术", "it"), ("电子科技", "tech"), ("网络科技", "net"), ("软件", "soft")),
           (65, 0, 15, 20, 0)),
    "MFG": (15, (("机械制造", "machinery"), ("精密机械", "precision"), ("包装材料", "pack"), ("印务", "print"),
                 ("纺织", "textile"), ("电器", "electric")), (95, 0, 0, 0, 5)),
    "SVC": (10, (("企业管理咨询", "consulting"), ("广告", "ad"), ("会计师事务所", "cpa"), ("人力资源", "hr")),
            (95, 0, 0, 0, 5)),
    "EDU": (8, (("教育培训", "edu"), ("职业培训学校", "school"), ("外国语学校", "school")), (100, 0, 0, 0, 0)),
    "MED": (7, (("医疗器械", "medical"), ("医药连锁", "pharma"), ("口腔门诊部", "dental")), (100, 0, 0, 0, 0)),
    "CON": (6, (("建设工程", "build"), ("建筑装饰", "deco"), ("置业", "estate"), ("物业管理", "property")),
            (100, 0, 0, 0, 0)),
    "LOG": (6, (("物流", "logistics"), ("货运代理", "freight"), ("快运", "express")), (100, 0, 0, 0, 0)),
    "FIN": (4, (("投资管理", "invest"), ("融资担保", "guarantee"), ("保险代理", "insurance")), (100, 0, 0, 0, 0)),
    "HOS": (4, (("大酒店", "hotel"), ("餐饮管理", "catering")), (100, 0, 0, 0, 0)),
    "GOV": (2, (), (100, 0, 0, 0, 0)),
    "AGR": (1, (("农业发展", "agri"), ("生态农业", "eco"), ("茶业", "tea")), (100, 0, 0, 0, 0)),
}
CATEGORIES = ("end_user", "dealer", "agent", "partner", "other")
# Small individual businesses (个体): what they sell or do, and the industry that is.
SHOP_WORDS = (("办公用品", "office", "WHS"), ("文化用品", "stationery", "WHS"), ("电脑", "pc", "WHS"),
              ("耗材", "supplies", "WHS"), ("图文快印", "copy", "SVC"), ("打印复印", "print", "SVC"))
GOV_UNITS = ("机关事务管理中心", "政务服务中心", "档案馆", "城市管理局", "市场监督管理所")

OFFICE_BUILDINGS = ("华星科技大厦", "国贸中心", "科技大厦", "金融中心", "商务大厦", "创业园A座", "创业园B座",
                    "世贸广场", "银泰中心", "中环广场", "东方大厦", "时代广场")
ESTATES = ("阳光花园", "金色家园", "锦绣江南", "翠苑一区", "世纪新城", "东方名苑", "幸福里", "滨江花园",
           "香樟园", "枫林湾", "和平小区", "学府雅苑", "丽景湾", "万科城")

BANKS = (("中国工商银行", "1202"), ("中国建设银行", "3305"), ("中国农业银行", "1901"), ("中国银行", "3560"),
         ("交通银行", "3310"), ("招商银行", "5719"), ("浙商银行", "3310"), ("兴业银行", "3560"))
CARD_PREFIXES = ("622202", "621700", "622848", "621661", "622588", "621483", "622260")

MOBILE_PREFIXES = ("138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "186", "187", "188",
                   "189", "177", "180", "181", "185", "133", "153", "199", "130", "131", "132", "155", "156",
                   "176", "173", "183", "182", "157")

# ---------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------

# code, name, category, unit, list price, replenishment cycle (days), description
PRODUCTS = (
    ("PR-LJ2100", "黑白激光打印机 LJ-2100", "PRINTER", "台", "1680.00", None, "A4黑白激光，自动双面，适合中小办公室"),
    ("PR-CJ660", "彩色喷墨打印机 CJ-660", "PRINTER", "台", "899.00", None, "家用及小型办公彩色喷墨，支持无线打印"),
    ("PR-MF4500", "多功能一体机 MF-4500", "PRINTER", "台", "3280.00", None, "打印、复印、扫描、传真四合一"),
    ("PR-DP630", "针式票据打印机 DP-630K", "PRINTER", "台", "1450.00", None, "发票、快递单等多联票据打印"),
    ("CS-INK-BK", "黑色墨盒 CJ-66BK", "CONSUMABLE", "个", "128.00", 60, "CJ-660专用，约可打印500页"),
    ("CS-INK-CL", "彩色墨盒 CJ-66CL", "CONSUMABLE", "个", "168.00", 60, "CJ-660专用三色墨盒，约400页"),
    ("CS-TN2100", "硒鼓 TN-2100", "CONSUMABLE", "个", "420.00", 90, "LJ-2100专用，约2600页"),
    ("CS-TN4500", "粉盒 TN-4500", "CONSUMABLE", "个", "560.00", 90, "MF-4500专用，约3000页"),
    ("CS-RB630", "色带架 RB-630", "CONSUMABLE", "个", "35.00", 45, "DP-630K专用色带"),
    ("CS-A4-70", "A4复印纸 70g（5包/箱）", "CONSUMABLE", "箱", "135.00", 30, "每包500张"),
    ("CS-A3-80", "A3复印纸 80g（5包/箱）", "CONSUMABLE", "箱", "260.00", 45, "每包500张"),
    ("PC-BZ500", "商用台式电脑 BZ-500", "COMPUTER", "台", "4599.00", None, "i5处理器/16G内存/512G固态"),
    ("PC-NB14", "14英寸商务笔记本 NB-14", "COMPUTER", "台", "5699.00", None, "轻薄商务本，1.3kg"),
    ("PT-KM200", "有线键鼠套装 KM-200", "PARTS", "套", "89.00", 365, "办公键盘鼠标套装"),
    ("PT-SSD512", "固态硬盘 512GB", "PARTS", "块", "329.00", None, "SATA接口，旧电脑升级"),
    ("PT-FU2100", "定影组件 FU-2100", "PARTS", "个", "680.00", 365, "LJ-2100定影组件，约5万页更换"),
    ("SV-CLEAN", "打印头清洗保养", "SERVICE", "次", "120.00", 180, "喷墨打印机打印头清洗，建议每半年一次"),
    ("SV-ONSITE", "上门维修服务", "SERVICE", "次", "200.00", None, "市区两小时内上门"),
    ("SV-ANNUAL", "办公设备年度维保", "SERVICE", "年", "1800.00", 365, "每季度巡检一次，含人工不含配件"),
    ("SW-OFFICE", "正版办公软件年度授权", "SOFTWARE", "套", "498.00", 365, "单用户年度订阅"),
    ("SW-AV", "企业杀毒软件年度授权", "SOFTWARE", "点", "98.00", 365, "按终端数授权"),
    ("SW-FIN", "财务管理软件标准版", "SOFTWARE", "套", "2980.00", None, "总账、报表、固定资产模块"),
)
PRODUCT_BY_CODE = {p[0]: p for p in PRODUCTS}
# What a customer with a given device keeps buying.
PROFILES = {
    "inkjet": ("PR-CJ660", "CS-INK-BK", "CS-INK-CL", "SV-CLEAN", "CS-A4-70"),
    "laser": ("PR-LJ2100", "CS-TN2100", "CS-A4-70", "PT-FU2100", "SV-ONSITE"),
    "mfp": ("PR-MF4500", "CS-TN4500", "CS-A4-70", "CS-A3-80", "SV-ANNUAL"),
    "receipt": ("PR-DP630", "CS-RB630", "CS-A4-70"),
    "it": ("PC-BZ500", "PC-NB14", "PT-KM200", "PT-SSD512", "SW-OFFICE", "SW-AV", "SW-FIN", "SV-ONSITE"),
}
DEVICE_CATEGORIES = ("PRINTER", "COMPUTER")
PRICE_FACTOR = {"STD": Decimal("1.00"), "VIP": Decimal("0.92"), "DEALER": Decimal("0.82")}

# ---------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------

STOP_REASONS_ORG = (
    "转向竞争对手采购，对方报价低约8%", "企业停业", "价格原因：认为我方耗材价格偏高",
    "服务不满意：多次送货延迟", "企业搬迁至外省，不在服务范围内", "采购改为集团集中招标，我方未入围",
    "推行无纸化办公，打印需求大幅减少", "资金周转困难，暂停采购", "原采购负责人离职，新负责人有固定供应商",
    "对产品质量不满意（硒鼓漏粉）",
)
STOP_REASONS_PERSON = (
    "转向电商平台购买", "价格原因", "服务不满意：维修等待时间长", "搬家到外地，联系不上", "不再使用打印机",
)
DELIVERY = (
    "送货上门，工作日9:00–17:00", "需提前电话联系收货人", "到店自提", "快递发货（顺丰）",
    "开具增值税专用发票随货同行", "签收单需盖章回传", "放前台代收", "紧急订单，当天送达", "送至仓库，需预约卸货",
)
TRADE_NOTES = ("含税价，开增值税专用发票", "月结客户，随月对账", "随货赠送A4纸一包（促销）", "客户指定原装耗材",
               "分两次送货", "老客户优惠价")
OCCUPATIONS = ("教师", "医生", "律师", "自由职业", "个体工商户", "公务员", "工程师", "会计", "设计师",
               "退休人员", "企业职员", "销售经理", "作家", "研究生", "摄影师", "翻译")
FAMILY = ("已婚，育有一子", "已婚，育有一女", "未婚", "已婚，两个孩子", "已婚，子女在外地工作", "离异，独居",
          "已婚，与父母同住", "单身，和朋友合租")
LIFESTYLES = ("居家办公，作息规律", "经常出差", "注重品质，不太在意价格", "精打细算，喜欢比价", "喜欢网购",
              "周末常带孩子外出", "退休后在家带孙子")
HOBBIES = ("书法", "摄影", "钓鱼", "旅游", "烹饪", "跑步", "羽毛球", "象棋", "园艺", "读书", "登山", "瑜伽",
           "广场舞")
PRODUCT_PREFS = ("偏好原装耗材", "价格敏感，倾向兼容墨盒", "要求使用环保再生纸", "只买大品牌设备",
                 "希望耗材与设备同一供应商", "喜欢试用新品")
SERVICE_PREFS = ("要求两小时内上门", "希望送货前电话预约", "需要增值税专用发票", "希望每月统一对账",
                 "喜欢微信沟通", "只接受工作日送货", "需要上门安装和培训")
QUESTIONNAIRES = ("2025年客户满意度调查：对送货速度满意，希望增加耗材品类。",
                  "2024年问卷：每月打印约2000页，主要是合同和报表。",
                  "问卷反馈：希望提供设备以旧换新服务。",
                  "问卷反馈：对业务员服务态度评价很高。")
VERIFY_NOTES = ("已电话核实名称、地址及联系人", "已核对营业执照", "业务员实地拜访核实", "与开票信息核对一致")
ORG_STRUCTURES = {
    "micro": "负责人直接管理，下设销售和财务各1人",
    "small": "总经理—销售部、财务部、行政部",
    "medium": "总经理—副总经理（分管销售、生产）—销售部、采购部、财务部、行政人事部、信息部",
    "large": "董事会—总裁办—各事业部；采购由集团采购中心统一负责，分公司行政部提需求",
}
SIZE_RANGES = {"micro": (3, 9), "small": (10, 99), "medium": (100, 999), "large": (1000, 6000)}
CAPITAL_RANGES = {"micro": (10, 50), "small": (50, 500), "medium": (500, 5000), "large": (5000, 50000)}  # 万元

POSITIONS = {
    "decision_maker": (("总经理", "总经办"), ("副总经理", "总经办"), ("董事长", "总经办"), ("行政总监", "行政部")),
    "influencer": (("IT主管", "信息部"), ("行政经理", "行政部"), ("财务经理", "财务部"), ("办公室主任", "办公室")),
    "user": (("行政文员", "行政部"), ("前台", "行政部"), ("财务专员", "财务部"), ("网管", "信息部"),
             ("设计师", "设计部")),
    "purchaser": (("采购经理", "采购部"), ("采购专员", "采购部"), ("采购主管", "采购部")),
}
HOMETOWNS = ("浙江绍兴", "江苏扬州", "湖南长沙", "四川绵阳", "山东潍坊", "河南洛阳", "安徽安庆", "福建泉州",
             "湖北襄阳", "黑龙江齐齐哈尔", "江西九江", "河北保定", "浙江温州", "广东潮州")
SCHOOLS = ("浙江大学", "南京大学", "复旦大学", "华中科技大学", "四川大学", "山东大学", "厦门大学", "武汉大学",
           "浙江工业大学", "杭州电子科技大学", "中南大学", "西安交通大学", "吉林大学", "郑州大学", "本地职业技术学院")
SPORTS = ("羽毛球", "乒乓球", "游泳", "跑步", "高尔夫", "登山", "骑行", "网球", "篮球", "太极拳", "钓鱼")
RESTAURANTS = ("外婆家", "楼外楼", "海底捞", "西贝莜面村", "绿茶餐厅", "新白鹿", "公司附近的本帮菜馆",
               "老字号面馆", "小龙坎火锅")
FOODS = ("杭帮菜", "川菜", "粤式早茶", "火锅", "淮扬菜", "湘菜", "东北菜", "日料", "西餐", "素食")
PETS = ("一只柯基犬", "两只猫", "一只金毛犬", "无", "一只鹦鹉", "一缸金鱼")
BOOKS = ("《三体》", "《平凡的世界》", "《活着》", "《人类简史》", "《围城》", "《穷查理宝典》", "《从优秀到卓越》",
         "《明朝那些事儿》", "《红楼梦》", "《孙子兵法》")
HOLIDAYS = ("春节回老家过年", "国庆带家人自驾游", "每年冬天去三亚度假", "喜欢出境游（日本、泰国）",
            "周末去莫干山住民宿", "暑假陪孩子参加夏令营")
ITINERARIES = ("每月第一周在总部开会，周一上午不便拜访", "11月中旬去广州参加行业展会", "每周三下午固定外出见供应商",
               "年底前要去德国总部述职两周", "每季度末到各分公司巡查", "下月初休年假一周")
COLLEAGUE_RELATIONS = ("与财务经理关系密切，采购需其会签", "与IT主管意见常有分歧", "深得总经理信任，是其老部下",
                       "与前任采购经理交接不完整，对历史订单不熟", "在公司人缘好，同事常找他帮忙",
                       "与行政总监是大学同学")
GOALS = ("年内升任行政总监", "把公司打印成本降低20%", "推动全公司无纸化办公", "孩子明年高考，希望工作稳定",
         "在职攻读MBA", "建立规范的供应商评估制度")
RELATIVES = (("配偶", "other"), ("子女", "influencer"), ("助理", "user"), ("家属", "other"))

VISIT_PURPOSES = (
    # (purpose, content template, next step, weight for current / potential / former)
    ("例行拜访", "了解近期办公设备使用情况，{contact}反映{product}使用正常，月用量稳定。", "下月继续例行拜访", (30, 0, 0)),
    ("新品介绍", "向{contact}介绍{product}并现场演示，对方表示考虑纳入下季度采购。",
     "寄送产品资料和报价单", (12, 25, 0)),
    ("补货提醒", "按上次购买时间测算{product}即将用完或到期，{contact}确认需要续购。", "三天内安排送货或续约", (20, 0, 0)),
    ("催收货款", "与{contact}核对上月对账单，约定本月底前付款。", "月底前确认到账", (8, 0, 0)),
    ("售后回访", "回访上次维修情况，设备运行正常，{contact}对服务满意。", "两个月后再次回访", (10, 0, 0)),
    ("生日问候", "致电{contact}送上生日祝福，并告知生日当月购物享九折。", None, (4, 0, 0)),
    ("投诉处理", "就送货延迟问题向{contact}致歉，说明已调整配送线路。", "下周电话确认客户满意度", (4, 0, 0)),
    ("项目洽谈", "与{contact}讨论年度办公设备采购计划，对方预算约{budget}万元。", "准备方案和报价", (6, 5, 0)),
    ("报价", "按客户价格表提供{product}报价，对方正在比价。", "三天后跟进报价结果", (6, 15, 0)),
    ("初次拜访", "初次接触，介绍公司产品线和服务网点，{contact}表示目前使用其他供应商。", "一周后电话跟进", (0, 45, 0)),
    ("活动邀请", "邀请{contact}参加新品品鉴会，对方表示有兴趣。", None, (4, 10, 0)),
    ("客户挽回", "了解停止采购的原因，{contact}表示主要是价格因素，可考虑恢复合作。", "申请特价方案", (0, 0, 100)),
)
METHOD_WEIGHTS = {"A": (50, 35, 10, 5), "B": (40, 40, 12, 8), "C": (25, 50, 12, 13), "D": (10, 60, 15, 15),
                  None: (30, 50, 10, 10)}
METHODS = ("visit", "phone", "email", "message")

AFTER_SALES_TEXT = {
    "service": (("上门安装调试{product}，并培训前台人员使用", "已安装完毕，客户确认可正常使用"),
                ("使用{product}后打印出现条纹，上门清洗打印头", "清洗后打印正常"),
                ("打印机频繁卡纸，上门检修并更换搓纸轮", "更换配件后恢复正常"),
                ("远程指导客户安装{product}驱动程序", "远程处理完毕"),
                ("年度维保巡检，清洁设备并检查易损件", "巡检完成，建议下季度更换定影组件")),
    "complaint": (("送货延迟三天，影响客户月底报表打印", "已致歉，并赠送A4纸一箱作为补偿"),
                  ("{product}漏墨，弄脏了合同文件", "已免费更换新品并致歉"),
                  ("发票抬头开错，需要重开", "已重新开具发票并快递寄出"),
                  ("业务员多次未按约定时间上门", "已约谈业务员，改由经理跟进"),
                  ("{product}价格比上次购买高，客户质疑报价", "已解释调价原因并给予老客户折扣"),
                  ("客服电话长时间无人接听", "已增加客服坐席，回访客户说明情况")),
    "return": (("{product}到货外包装破损，客户要求退货", "已办理退货退款"),
               ("{product}型号与订单不符", "已退回并重新发货"),
               ("{product}质量问题：打印颜色发灰", "经检测确属质量问题，已办理退货"),
               ("客户多订了{product}，协商退回未拆封部分", "已按原价退回未拆封部分")),
}

# kind, name, start, duration (days), intent, fixed cost, per-target cost, target count, response weights
# (none, interested, purchased, declined)
PROMOTIONS = (
    ("broadcast", "城市交通广播“快印到家”广告", dt.datetime(2024, 3, 1, 7, 30), 30,
     "提升品牌知名度，吸引来电咨询", "48000.00", "0.00", 15, (0, 60, 40, 0)),
    ("mail", "2024年中产品目录直邮", dt.datetime(2024, 6, 15, 10, 0), 30,
     "向企业客户寄送新版产品目录和优惠券", "5000.00", "8.50", 70, (62, 20, 10, 8)),
    ("phone", "墨盒硒鼓补货电话回访促销", dt.datetime(2025, 3, 10, 9, 30), 20,
     "按补货周期电话提醒，带动耗材复购", "800.00", "6.00", 60, (20, 25, 40, 15)),
    ("event", "2025春季办公设备新品品鉴会", dt.datetime(2025, 4, 18, 14, 0), 1,
     "向A/B类企业客户推荐新款多功能一体机", "25000.00", "120.00", 35, (25, 45, 20, 10)),
    ("sms", "国庆假期个人客户短信优惠", dt.datetime(2025, 9, 25, 10, 0), 12,
     "节日促销，喷墨耗材满200减30", "300.00", "0.05", 60, (72, 10, 12, 6)),
    ("price_cut", "双十一耗材特惠（墨盒硒鼓8折）", dt.datetime(2025, 11, 1, 9, 0), 12,
     "清理库存并拉动年底耗材销量", "3000.00", "15.00", 50, (35, 20, 35, 10)),
    ("email", "新品邮件推送：MF-4500多功能一体机", dt.datetime(2026, 5, 20, 9, 0), 14,
     "企业客户邮件营销，附试用申请链接", "1200.00", "0.10", 50, (70, 18, 5, 7)),
    ("gift", "老客户推荐有礼", dt.datetime(2026, 7, 1, 9, 0), 60,
     "鼓励现有客户推荐新客户，推荐成功赠送A4纸一箱", "2000.00", "135.00", 30, (45, 25, 25, 5)),
)
RESPONSES = ("none", "interested", "purchased", "declined")
RESPONSE_NOTES = {"interested": ("要求寄送报价", "表示下月考虑", "询问以旧换新"),
                  "purchased": ("已下单", "活动期间购买", "电话下单"),
                  "declined": ("暂无需求", "已有固定供应商", "请勿再打扰")}

PROJECT_TEMPLATES = (
    ("{year}年度办公打印设备集中采购", "更新各部门老旧打印机约{n}台，统一型号便于耗材管理",
     "现有打印机老化，维修频繁，耗材型号杂乱", "3月需求调研，4月询价，5月签约，6月交付"),
    ("财务部票据打印机更新", "采购针式票据打印机{n}台，替换已停产型号", "旧票据打印机配件停产，无法维修",
     "本季度内完成比价和采购"),
    ("新办公楼IT设备采购", "新办公楼启用，需要电脑{n}台及多功能一体机若干", "搬迁后需一次性配齐办公设备",
     "装修完成前一个月下单，分两批到货"),
    ("打印管理外包（MPS）服务招标", "将全公司打印设备和耗材外包，按张计费", "打印成本不透明，各部门耗材浪费严重",
     "6月发标，7月评标，8月起服务"),
    ("全员电脑换新项目", "分两年更换办公电脑{n}台，预装正版软件", "电脑使用超过六年，运行缓慢，软件授权不合规",
     "今年更换一半，明年完成"),
)
PROCUREMENT = ("部门提需求→行政部汇总→公开招标（三家以上报价）→总经理办公会审批→签订合同",
               "使用部门申请→采购部询价比价→财务审核预算→分管副总审批",
               "集团采购中心统一招标，分公司只能在入围供应商中选择")
COMPETITOR_PRODUCTS = ("兼容硒鼓、复印纸", "品牌激光打印机及原装耗材", "电脑整机和维保服务", "打印管理外包服务",
                       "办公用品一站式配送")
COMPETITOR_REPS = ("业务员小刘，与采购经理是同乡", "客户经理王女士，每周上门一次", "电话销售为主，很少上门",
                   "区域经理亲自跟进，关系较深", "新换的业务员，客户还不熟悉")
COMPETITOR_NOTES = ("价格比我们低约5%，但送货慢", "与客户合作五年以上，关系稳固", "最近一次送错货，客户有意见",
                    "提供免费设备租用，靠耗材盈利", "客户只在紧急时向其采购")
ONLINE_COMPETITORS = ("电商平台企业购", "某品牌厂家直销")


# ---------------------------------------------------------------------------------------
# Pure generation
# ---------------------------------------------------------------------------------------

@dataclass
class DemoData:
    customers: list
    contacts: list
    transactions: list
    formers: list
    after_sales: list
    visits: list
    promotions: list
    projects: list
    competitors: list


def _passes(field: str, text: str) -> bool:
    """The demo only hands out values the card's own rules accept unchanged (the field
    registry's clean(): a mobile of a real range, a landline with a real area code)."""
    from portal.fields import FieldInvalid, clean, fields_of
    from portal.models import Customer

    try:
        return clean(fields_of(Customer)[field], text) == text
    except FieldInvalid:
        return False


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(region: str, birth: dt.date, sequence: int) -> str:
    """An 18-character resident ID with its ISO 7064 MOD 11-2 check digit."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS)) % 11]


def credit_code(prefix: str, region: str, org_body: str) -> str:
    """A unified social credit code (GB 32100): prefix, region, GB 11714 organisation code, check."""
    value = {c: i for i, c in enumerate(_USCC_CHARS)}
    org_check = 11 - sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(org_body, _ORG_WEIGHTS)) % 11
    org = org_body + {10: "X", 11: "0"}.get(org_check, str(org_check))
    body = f"{prefix}{region}{org}"
    check = (31 - sum(value[c] * w for c, w in zip(body, _USCC_WEIGHTS)) % 31) % 31
    return body + _USCC_CHARS[check]


def _days(a: dt.date, b: dt.date) -> int:
    return (b - a).days


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


class _Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.names: set[str] = set()
        self.mobiles: set[str] = set()
        self.phones: set[str] = set()
        self.codes: set[str] = set()
        self.city_weights = [c[5] for c in CITIES]
        self.industry_codes = list(INDUSTRIES)
        self.industry_weights = [INDUSTRIES[k][0] for k in self.industry_codes]

    # -- small helpers ------------------------------------------------------------------
    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randint(0, _days(start, end)))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def weighted(self, items, weights):
        return self.rng.choices(items, weights=weights)[0]

    def person_name(self, gender: str) -> tuple[str, str]:
        surname, s_py, _ = self.rng.choices(SURNAMES, weights=[s[2] for s in SURNAMES])[0]
        given, g_py = self.rng.choice(MALE_GIVEN if gender == "M" else FEMALE_GIVEN)
        return surname + given, s_py + g_py

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randint(0, 99999999):08d}"
            if number not in self.mobiles and _passes("mobile", number):
                self.mobiles.add(number)
                return number

    def landline(self, city) -> str:
        area, length = city[3], city[4]
        while True:
            local = self.rng.choice("5678") + "".join(self.rng.choice("0123456789") for _ in range(length - 1))
            text = f"0{area}-{local}"
            if text not in self.phones and _passes("phone", text):
                self.phones.add(text)
                return text

    def birth(self, start_year: int, end_year: int) -> dt.date:
        return self.date_between(dt.date(start_year, 1, 1), dt.date(end_year, 12, 31))

    # -- customers ----------------------------------------------------------------------
    def place(self):
        city = self.rng.choices(CITIES, weights=self.city_weights)[0]
        district = self.rng.choice(city[6])
        return city, district

    def base_customer(self, kind: str, stage: str) -> dict:
        city, district = self.place()
        province = city[0]
        owner = TERRITORY[province]
        if self.chance(0.12):  # a colleague of the same team covers it
            owner = self.rng.choice([u for u in SALESPEOPLE if TEAM_OF[u] == TEAM_OF[owner]])
        if stage == "potential":
            acquired = self.date_between(dt.date(2023, 6, 1), DEMO_TODAY - dt.timedelta(days=5))
        elif stage == "former":
            acquired = self.date_between(dt.date(2015, 1, 1), dt.date(2024, 3, 1))
        else:
            acquired = self.date_between(dt.date(2014, 1, 1), DEMO_TODAY - dt.timedelta(days=60))
        c = {
            "customer_type": kind, "province": province, "city": city[1], "district": district[0],
            "postcode": district[1], "acquired_on": acquired,
            "_city": city, "_district": district, "_stage": stage, "_region": REGION_OF_PROVINCE[province],
            "_owner": owner, "_team": TEAM_OF[owner], "_tags": [],
        }
        route = ROUTE_OF_PROVINCE[province]
        if self.chance(0.85 if kind == "org" else 0.6):
            c["_route"] = route
        return c

    def organisation(self, c: dict) -> None:
        rng = self.rng
        city, district = c["_city"], c["_district"]
        industry = self.weighted(self.industry_codes, self.industry_weights)
        _, words, cat_weights = INDUSTRIES[industry]
        category = self.weighted(CATEGORIES, cat_weights)
        size = self.weighted(("micro", "small", "medium", "large"), (22, 45, 25, 8))
        ownership = self.weighted(("PRIVATE", "JOINT_STOCK", "STATE", "COLLECTIVE", "INDIVIDUAL", "JV", "FOREIGN"),
                                  (55, 12, 6, 4, 12, 6, 5))
        city_short = city[1].removesuffix("市")
        district_short = district[0][:-1] if len(district[0]) > 2 else district[0]
        for attempt in range(1000):
            if attempt == 20:  # this city has all the plants/offices it can: a company instead
                industry, ownership = ("WHS" if industry == "GOV" else industry), "PRIVATE"
                words = INDUSTRIES[industry][1]
            brand, brand_py = rng.choice(BRANDS)
            if industry == "GOV":
                ownership, size, category = "STATE", self.weighted(("small", "medium"), (2, 1)), "end_user"
                unit = GOV_UNITS.index(rng.choice(GOV_UNITS))
                name, brand_py, domain_word = f"{city_short}市{district[0]}{GOV_UNITS[unit]}", "", f"gov{unit}"
            elif ownership == "INDIVIDUAL":
                size = "micro"
                word, domain_word, industry = rng.choice(SHOP_WORDS)
                _, _, cat_weights = INDUSTRIES[industry]
                category = self.weighted(CATEGORIES, cat_weights)
                suffix = rng.choice(("商行", "经营部", "门市部") if industry == "WHS" else ("店", "工作室"))
                name = f"{city_short}{district_short}{brand}{word}{suffix}"
            elif ownership == "STATE" and industry == "MFG":
                n = rng.randint(1, 9)
                name, brand_py, domain_word = f"{city_short}第{'一二三四五六七八九'[n - 1]}印刷厂", "", f"print{n}"
            elif ownership == "COLLECTIVE":
                if industry != "MFG":
                    industry, words = "WHS", INDUSTRIES["WHS"][1]
                word, domain_word = rng.choice(words)
                name = f"{city_short}{district_short}{brand}{word}厂" if industry == "MFG" else \
                    f"{city_short}{district_short}供销合作社{brand}门市部"
            else:
                word, domain_word = rng.choice(words)
                if word.endswith(("学校", "门诊部", "事务所", "大酒店")):
                    name = f"{city_short}{brand}{word}"
                elif ownership == "JOINT_STOCK":
                    name = f"{city_short}{brand}{word}股份有限公司"
                elif ownership == "FOREIGN" and self.chance(0.5):
                    name = f"{brand}{word}（{city_short}）有限公司"
                else:
                    name = f"{city_short}{brand}{word}有限公司"
            if name not in self.names:
                self.names.add(name)
                break
        domain = f"{city[2]}{brand_py}{domain_word}.example.com".lower()
        legal_rep_gender = self.weighted(("M", "F"), (7, 3))
        legal_rep, _ = self.person_name(legal_rep_gender)
        low, high = SIZE_RANGES[size]
        employees = rng.randint(low, high)
        cap_low, cap_high = CAPITAL_RANGES[size]
        founded = self.date_between(dt.date(1985 if ownership == "STATE" else 1995, 1, 1),
                                    min(c["acquired_on"], dt.date(2024, 6, 30)) - dt.timedelta(days=30))
        prefix = "11" if industry == "GOV" else "52" if name.endswith("学校") else \
            "92" if ownership == "INDIVIDUAL" else "91"
        while True:
            if founded.year >= 2015:
                body = "MA" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(6))
            else:
                body = f"{rng.randint(10000000, 79999999)}"
            code = credit_code(prefix, district[2], body)
            if code not in self.codes:
                self.codes.add(code)
                break
        phone = self.landline(city)
        street = rng.choice(district[3])
        address = f"{street}{rng.randint(1, 899)}号"
        if ownership != "INDIVIDUAL" and industry not in ("GOV", "MFG", "AGR") and self.chance(0.6):
            address += f"{rng.choice(OFFICE_BUILDINGS)}{rng.randint(2, 28)}楼{rng.randint(1, 20):02d}室"
        channel = None
        if category == "dealer":
            channel = self.weighted(("WHOLESALE", "RETAIL", "CHAIN", "EXCLUSIVE", "FRANCHISE"), (35, 35, 10, 10, 10))
        elif category == "agent":
            channel = "AGENT"
        elif category == "partner":
            channel = self.weighted(("FRANCHISE", "EXCLUSIVE"), (1, 1))
        bank, bank_prefix = rng.choice(BANKS)
        c.update({
            "name": name, "category": category, "credit_code": code, "street": address, "phone": phone,
            "fax": self.landline(city) if self.chance(0.35) else None,
            "mobile": self.mobile() if self.chance(0.3) else None,
            "email": f"{rng.choice(('info', 'sales', 'office', 'purchase', 'admin', 'service'))}@{domain}",
            "website": f"http://www.{domain}" if self.chance(0.6) else None,
            "location_type": self.weighted(("business_centre", "transport_hub", "residential", "other"),
                                           (50, 12, 18, 20)),
            "company_size": size, "employee_count": employees, "founded_on": founded,
            "registered_capital": Decimal(rng.randint(cap_low, cap_high) * 10000),
            "legal_representative": legal_rep, "org_structure": ORG_STRUCTURES[size],
            "bank_name": f"{bank}{city_short}{district[0]}支行",
            "bank_account": bank_prefix + "".join(rng.choice("0123456789") for _ in range(15)),
            "payment_terms": self.weighted(("prepaid", "cash", "cod", "net30", "net60", "net90"),
                                           (8, 15, 10, 40, 20, 7)),
            "product_preferences": rng.choice(PRODUCT_PREFS) if self.chance(0.5) else None,
            "service_preferences": rng.choice(SERVICE_PREFS) if self.chance(0.6) else None,
            "_industry": industry, "_ownership": ownership, "_channel": channel, "_domain": domain,
            "_price_list": "DEALER" if category in ("dealer", "agent") else ("VIP" if size == "large" else "STD"),
            "_profiles": self.org_profiles(category, industry, size),
            "_scale": {"micro": 1, "small": 2, "medium": 4, "large": 8}[size]
            * (3 if category in ("dealer", "agent") else 1),
        })

    def org_profiles(self, category: str, industry: str, size: str) -> list[str]:
        if category in ("dealer", "agent", "partner"):
            return self.rng.sample(("inkjet", "laser", "mfp", "receipt", "it"), k=self.rng.randint(3, 5))
        first = self.weighted(("laser", "mfp", "receipt", "it", "inkjet"),
                              (35, 30, 12 if industry in ("WHS", "LOG", "HOS") else 4, 15, 8))
        profiles = [first]
        if size in ("medium", "large") or self.chance(0.3):
            second = self.rng.choice([p for p in PROFILES if p != first])
            profiles.append(second)
        return profiles

    def person(self, c: dict) -> None:
        rng = self.rng
        city, district = c["_city"], c["_district"]
        gender = self.weighted(("M", "F"), (52, 48))
        while True:
            name, name_py = self.person_name(gender)
            if name not in self.names:
                self.names.add(name)
                break
        birth = self.birth(1955, 2002)
        id_number = resident_id(district[2], birth, rng.randint(0, 499) * 2 + (1 if gender == "M" else 0)) \
            if self.chance(0.55) else None
        street = rng.choice(district[3])
        address = f"{street}{rng.randint(1, 600)}号{rng.choice(ESTATES)}{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元" \
                  f"{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
        age = DEMO_TODAY.year - birth.year
        occupation = "退休人员" if age >= 62 else rng.choice([o for o in OCCUPATIONS if o != "退休人员"])
        c.update({
            "name": name, "category": "end_user", "gender": gender, "birth_date": birth, "id_number": id_number,
            "occupation": occupation,
            "income_level": self.weighted(("low", "lower_middle", "middle", "upper_middle", "high"),
                                          (15, 35, 32, 12, 6)),
            "family_status": rng.choice(FAMILY),
            "education": self.weighted(("primary", "secondary", "high", "college", "bachelor", "master", "doctor"),
                                       (2, 8, 18, 22, 35, 12, 3)),
            "street": address, "mobile": self.mobile(),
            "phone": self.landline(city) if self.chance(0.25) else None,
            "email": f"{name_py}{birth.year % 100:02d}@{rng.choice(('example.com', 'mail.example.com', 'example.net'))}"
            if self.chance(0.7) else None,
            "lifestyle": rng.choice(LIFESTYLES) if self.chance(0.6) else None,
            "hobbies": "、".join(rng.sample(HOBBIES, k=rng.randint(1, 3))),
            "product_preferences": rng.choice(PRODUCT_PREFS) if self.chance(0.5) else None,
            "service_preferences": rng.choice(SERVICE_PREFS) if self.chance(0.4) else None,
            "payment_terms": self.weighted(("cash", "cod", "prepaid"), (60, 30, 10)),
            "_price_list": "STD", "_pinyin": name_py,
            "_profiles": [self.weighted(("inkjet", "laser", "it"), (70, 22, 8))],
            "_scale": 1,
        })
        if self.chance(0.3):
            bank, _ = rng.choice(BANKS)
            c["bank_name"] = bank
            c["bank_account"] = rng.choice(CARD_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(13))

    def customers(self) -> list[dict]:
        n = N_CUSTOMERS
        n_org = round(n * 0.6)
        kinds = ["org"] * n_org + ["person"] * (n - n_org)
        n_potential, n_former = round(n * 0.25), round(n * 0.11)
        stages = ["potential"] * n_potential + ["former"] * n_former + ["current"] * (n - n_potential - n_former)
        self.rng.shuffle(kinds)
        self.rng.shuffle(stages)
        result = []
        for kind, stage in zip(kinds, stages):
            c = self.base_customer(kind, stage)
            (self.organisation if kind == "org" else self.person)(c)
            result.append(c)
        result.sort(key=lambda c: c["acquired_on"])  # numbers follow the order cards were opened
        return result

    def sources(self, customers: list[dict]) -> None:
        """Sources, referral chains (客户推荐) and the verification stamp."""
        rng = self.rng
        trading = [i for i, c in enumerate(customers) if c["_stage"] != "potential"]
        referred: dict[int, int] = {}
        # Chains: root ← 1st ← 2nd … (each a later card, referred by the previous one).
        for links in (4, 4, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1):
            for _attempt in range(50):
                root = rng.choice([i for i in trading if i < len(customers) * 0.6])
                chain, ok = [root], True
                for step in range(links):
                    last = step == links - 1
                    pool = [i for i in range(chain[-1] + 1, len(customers))
                            if i not in referred and i not in chain
                            and (last or customers[i]["_stage"] != "potential")
                            and _days(customers[chain[-1]]["acquired_on"], customers[i]["acquired_on"]) >= 20]
                    if not pool:
                        ok = False
                        break
                    chain.append(rng.choice(pool[:60]))
                if ok and not any(i in referred for i in chain[1:]):
                    for parent, child in zip(chain, chain[1:]):
                        referred[child] = parent
                    break
        employees = [u["username"] for u in DEMO_USERS if u["role"] in ("Salesperson", "SalesManager", "Clerk")]
        sources = ("SALES", "REF_EMP", "CAMPAIGN", "AD", "YELLOW", "FAIR", "LIST", "WEB", "INBOUND")
        weights_trading = (22, 8, 10, 8, 5, 12, 8, 10, 17)
        weights_potential = (5, 3, 10, 6, 12, 12, 26, 18, 8)
        for i, c in enumerate(customers):
            if i in referred:
                parent = customers[referred[i]]
                c.update({"_source": "REF_CUST", "_referred_by": referred[i], "source_detail": f"由{parent['name']}推荐"})
            else:
                source = self.weighted(sources, weights_potential if c["_stage"] == "potential" else weights_trading)
                c["_source"] = source
                year = c["acquired_on"].year
                detail = {
                    "SALES": rng.choice(("业务员陌生拜访", "老客户销售记录整理")),
                    "REF_EMP": None,
                    "CAMPAIGN": rng.choice(("产品目录直邮回函", "新品品鉴会签到", "耗材特惠活动")),
                    "AD": rng.choice(("《钱江晚报》广告", "城市交通广播广告", "搜索引擎推广", "户外广告牌")),
                    "YELLOW": f"{year}版《{c['province']}企业黄页》",
                    "FAIR": rng.choice((f"{year}中国国际办公设备展览会（上海）", f"{year}{c['city']}文化用品博览会")),
                    "LIST": f"{rng.choice(('信达数据', '商汇名录', '企联资讯'))}{year}年企业名录",
                    "WEB": rng.choice(("网络搜索（企业官网）", "企业信息查询网站", "行业论坛")),
                    "INBOUND": rng.choice(("客户来电咨询", "到店咨询", "官网留言")),
                }[source]
                if source == "REF_EMP":
                    employee = rng.choice(employees)
                    c["_referred_by_employee"] = employee
                    full_name = next(u["last_name"] + u["first_name"] for u in DEMO_USERS if u["username"] == employee)
                    detail = f"员工{full_name}推荐"
                c["source_detail"] = detail
            third_party = c["_source"] in ("YELLOW", "LIST", "WEB")
            if third_party:
                verified = self.chance(0.15 if c["_stage"] == "potential" else 0.75)
            else:
                verified = self.chance(0.6 if c["_stage"] == "potential" else 0.95)
            if verified:
                c["verified_on"] = self.date_between(c["acquired_on"] + dt.timedelta(days=1),
                                                     min(c["acquired_on"] + dt.timedelta(days=120), DEMO_TODAY))
                c["verification_note"] = rng.choice(VERIFY_NOTES)
                c["_verified_by"] = "custodian"
            elif third_party:
                c["_tags"].append("NEEDS_CHECK")
                c["verification_note"] = "第三方名单数据，待核实"

    # -- transactions -------------------------------------------------------------------
    def quantity(self, code: str, c: dict) -> int:
        rng, scale = self.rng, c["_scale"]
        category, unit = PRODUCT_BY_CODE[code][2], PRODUCT_BY_CODE[code][3]
        person = c["customer_type"] == "person"
        if category == "PRINTER":
            return 1 if person else rng.randint(1, max(1, scale // 2 + 1))
        if category == "COMPUTER":
            return 1 if person else rng.randint(1, scale * 2)
        if unit == "箱":
            return rng.randint(1, 2) if person else rng.randint(2, 5 * scale)
        if category == "CONSUMABLE":
            return rng.randint(1, 3) if person else rng.randint(1, 3 * scale)
        if code == "SW-AV":
            return 1 if person else rng.randint(5, 10 * scale)
        if category in ("SOFTWARE", "PARTS"):
            return 1 if person else rng.randint(1, scale * 2)
        return 1 if (person or code == "SV-ANNUAL") else rng.randint(1, max(1, scale))

    def price(self, code: str, c: dict) -> Decimal:
        base = Decimal(PRODUCT_BY_CODE[code][4]) * PRICE_FACTOR[c["_price_list"]]
        factor = Decimal(self.rng.randint(960, 1000)) / Decimal(1000)
        return (base * factor).quantize(Decimal("1") if base >= 100 else CENT)

    def order_lines(self, c: dict, first: bool) -> list:
        rng = self.rng
        pool = []
        for profile in c["_profiles"]:
            pool.extend(p for p in PROFILES[profile] if p not in pool)
        weights = [0.4 if PRODUCT_BY_CODE[p][2] in DEVICE_CATEGORIES else
                   (4 if PRODUCT_BY_CODE[p][2] == "CONSUMABLE" else 1.2) for p in pool]
        count = self.weighted((1, 2, 3, 4), (45, 30, 17, 8))
        chosen: list[str] = []
        if first:
            devices = [p for p in pool if PRODUCT_BY_CODE[p][2] in DEVICE_CATEGORIES]
            if devices:
                chosen.append(rng.choice(devices))
        while len(chosen) < min(count, len(pool)):
            if self.chance(0.08):
                pick = rng.choice(PRODUCTS)[0]   # something outside the usual basket (cross-sell)
            else:
                pick = self.weighted(pool, weights)
            if pick not in chosen:
                chosen.append(pick)
        return [(code, Decimal(self.quantity(code, c)), self.price(code, c)) for code in chosen]

    def payment(self, c: dict) -> str:
        if c["customer_type"] == "person":
            return self.weighted(("wechat", "alipay", "cash", "card"), (40, 30, 18, 12))
        if c.get("payment_terms", "").startswith("net"):
            return self.weighted(("transfer", "credit", "cheque"), (60, 30, 10))
        return self.weighted(("transfer", "cheque", "wechat", "alipay", "cash"), (55, 10, 15, 10, 10))

    def transaction(self, index: int, c: dict, day: dt.date, first: bool, phase: int) -> dict:
        rng = self.rng
        lines = self.order_lines(c, first)
        delivery = c.setdefault("_delivery", rng.choice(DELIVERY))
        if self.chance(0.2):
            delivery = rng.choice(DELIVERY)
        salesperson = c["_owner"] if self.chance(0.93) else rng.choice(
            [u for u in SALESPEOPLE if TEAM_OF[u] == c["_team"]])
        created = _at(day, rng.randint(9, 17), rng.randint(0, 59))
        return {
            "trade_date": day, "payment_method": self.payment(c), "delivery_requirements": delivery,
            "delivered_on": min(day + dt.timedelta(days=0 if delivery == "到店自提" else rng.randint(0, 4)), DEMO_TODAY),
            "note": rng.choice(TRADE_NOTES) if self.chance(0.12) else None,
            "created_on": created, "changed_on": created,
            "_customer": index, "_salesperson": salesperson, "_lines": lines, "_phase": phase,
        }

    def order_dates(self, c: dict, start: dt.date, end: dt.date, rate: float) -> list[dt.date]:
        dates, day, mean = [], start, 365.0 / rate
        while day <= end:
            if c["customer_type"] == "org" and day.weekday() >= 5:
                shifted = day - dt.timedelta(days=day.weekday() - 4)
                if not dates or shifted > dates[-1]:
                    day = shifted
            dates.append(day)
            day = day + dt.timedelta(days=max(3, round(mean * self.rng.uniform(0.55, 1.45))))
        return dates

    def rate(self, c: dict) -> float:
        if c["customer_type"] == "person":
            return self.rng.uniform(2, 6)
        if c["category"] in ("dealer", "agent"):
            return self.rng.uniform(10, 20)
        return self.rng.uniform(3, 7) * (1 + 0.25 * (c["_scale"] - 1))

    def transactions(self, customers: list[dict]):
        rng = self.rng
        txns, formers = [], []
        former_ids = [i for i, c in enumerate(customers) if c["_stage"] == "former"]
        returners = set(rng.sample(former_ids, k=min(3, len(former_ids))))
        for i, c in enumerate(customers):
            if c["_stage"] == "potential":
                continue
            earliest = max(WINDOW_START, c["acquired_on"] + dt.timedelta(days=7))
            if c["acquired_on"] < WINDOW_START:
                earliest = WINDOW_START + dt.timedelta(days=rng.randint(0, 75))
            rate = self.rate(c)
            if c["_stage"] == "former":
                last_allowed = self.date_between(max(earliest + dt.timedelta(days=120), dt.date(2024, 6, 1)),
                                                 dt.date(2026, 3, 1) if i not in returners else dt.date(2025, 3, 1))
                first = self.date_between(earliest, min(earliest + dt.timedelta(days=60), last_allowed))
            else:
                last_allowed = DEMO_TODAY - dt.timedelta(days=rng.randint(1, 40) if rate > 4 else rng.randint(1, 120))
                first = self.date_between(earliest, min(earliest + dt.timedelta(days=90),
                                                        DEMO_TODAY - dt.timedelta(days=45)))
            dates = self.order_dates(c, first, max(first, last_allowed), rate)
            for n, day in enumerate(dates):
                txns.append(self.transaction(i, c, day, n == 0, 1))
            if c["_stage"] == "former":
                last = dates[-1]
                on = min(last + dt.timedelta(days=rng.randint(120, 270)), DEMO_TODAY - dt.timedelta(days=1))
                reasons = STOP_REASONS_PERSON if c["customer_type"] == "person" else STOP_REASONS_ORG
                c["_stop"], c["_stop_reason"] = on, rng.choice(reasons)
                formers.append({"_customer": i, "on": on, "reason": c["_stop_reason"]})
                if i in returners:   # came back: trading again after being marked former
                    again = self.order_dates(c, on + dt.timedelta(days=rng.randint(30, 120)),
                                             DEMO_TODAY - dt.timedelta(days=rng.randint(1, 30)), rate)
                    for day in again:
                        txns.append(self.transaction(i, c, day, False, 2))
                    c["_returned"] = True
        return txns, formers

    def grades(self, customers: list[dict], txns: list[dict]) -> None:
        """Grade from the annual average amount (A top 12 %, B next 28 %, C next 35 %, D rest)."""
        rng = self.rng
        totals: dict[int, Decimal] = {}
        spans: dict[int, list[dt.date]] = {}
        products: dict[int, list[str]] = {}
        for t in txns:
            amount = sum((q * p for _, q, p in t["_lines"]), Decimal(0))
            totals[t["_customer"]] = totals.get(t["_customer"], Decimal(0)) + amount
            span = spans.setdefault(t["_customer"], [t["trade_date"], t["trade_date"]])
            span[0], span[1] = min(span[0], t["trade_date"]), max(span[1], t["trade_date"])
            bought = products.setdefault(t["_customer"], [])
            for code, _, _ in t["_lines"]:
                if code not in bought:
                    bought.append(code)
        annual = {}
        for i, total in totals.items():
            end = customers[i].get("_stop") or DEMO_TODAY
            years = max(Decimal("0.5"), Decimal(_days(spans[i][0], end)) / Decimal(365))
            annual[i] = total / years
        ranked = sorted(annual, key=lambda i: (-annual[i], i))
        n = len(ranked)
        for pos, i in enumerate(ranked):
            share = pos / n
            customers[i]["value_grade"] = "A" if share < 0.12 else "B" if share < 0.40 else "C" if share < 0.75 else "D"
            customers[i]["_annual"] = annual[i]
            customers[i]["_first_trade"] = spans[i][0]
            customers[i]["_products"] = products[i]
        for c in customers:
            if c["_stage"] == "potential":
                c["value_grade"] = self.weighted(("C", "D", None), (35, 40, 25))
            if c["_stage"] == "former" and not c.get("_returned") and c.get("value_grade") == "A":
                c["value_grade"] = "B"
        # Key accounts (大客户): the biggest organisations still trading.
        orgs = [i for i in ranked if customers[i]["customer_type"] == "org" and customers[i]["_stage"] == "current"]
        for i in orgs[:20]:
            customers[i]["is_core"] = True
            customers[i]["value_grade"] = "A"
        # Credit, indices, tags, preferences that follow the grade.
        ratings = {"A": ("AAA", "AA"), "B": ("AA", "A"), "C": ("A", "B"), "D": ("B", "C"), None: ("B", "C")}
        limits = {"A": (200, 800), "B": (50, 200), "C": (10, 50), "D": (0, 10), None: (0, 10)}  # thousand yuan
        for c in customers:
            grade, stage = c.get("value_grade"), c["_stage"]
            org = c["customer_type"] == "org"
            c.setdefault("is_core", False)
            if stage != "potential" or self.chance(0.3):
                low, high = limits[grade]
                limit = rng.randint(low, high) * 1000 if org else rng.randint(0, 5) * 1000
                c["credit_limit"] = Decimal(limit)
                c["credit_rating"] = rng.choice(ratings[grade])
                if "停业" in (c.get("_stop_reason") or "") or "资金周转" in (c.get("_stop_reason") or ""):
                    c["credit_rating"] = "C"
            if stage != "potential" and (org and self.chance(0.85) or not org and self.chance(0.2)):
                c["credit_report_date"] = DEMO_TODAY - dt.timedelta(days=rng.randint(10, 540))
                c["credit_report_valid_months"] = rng.choice((3, 6, 6, 12, 12, 12))
            if stage == "current":
                loyalty = {"A": (75, 98), "B": (60, 85), "C": (40, 70), "D": (20, 50)}[grade]
                c["loyalty_index"] = rng.randint(*loyalty)
            elif stage == "former":
                c["loyalty_index"] = rng.randint(5, 35)
            spend = {"A": (70, 99), "B": (50, 85), "C": (30, 70), "D": (10, 50), None: (20, 60)}[grade]
            c["potential_spend_index"] = rng.randint(*spend)
            c["promotion_response"] = self.weighted(("active", "neutral", "cold"),
                                                    (40, 40, 20) if stage == "current" else (15, 45, 40))
            c["new_product_appetite"] = self.weighted(("early", "wait", "conservative"), (25, 50, 25))
            if self.chance(0.25):
                c["questionnaire_response"] = rng.choice(QUESTIONNAIRES)
            if grade == "A" and stage == "current":
                c["_tags"].append("VIP")
            if c["customer_type"] == "person" and grade in ("A", "B") and stage == "current":
                c["_tags"].append("BIRTHDAY_GIFT")
            if stage == "current" and 0 < len(c.get("_products", ())) <= 2:
                c["_tags"].append("CROSS_SELL")
            if self.chance(0.05):
                c["_tags"].append("NO_MAIL")

    # -- contacts -----------------------------------------------------------------------
    def contact(self, i: int, c: dict, role: str, primary: bool, profile: bool) -> dict:
        rng = self.rng
        gender = self.weighted(("M", "F"), (55, 45))
        used = c.setdefault("_contact_names", [])
        while True:
            name, name_py = self.person_name(gender)
            if name not in used and name != c.get("legal_representative"):
                used.append(name)
                break
        position, department = rng.choice(POSITIONS[role])
        ext = f"转{rng.randint(800, 8999)}" if self.chance(0.4) else ""
        d = {
            "_customer": i, "name": name, "gender": gender,
            "birth_date": self.birth(1965, 2000) if self.chance(0.7) else None,
            "position": position, "department": department, "deal_role": role, "is_primary": primary,
            "phone": (c["phone"] + ext) if c.get("phone") else None,
            "mobile": self.mobile() if self.chance(0.9) else None,
            "email": f"{name_py}@{c['_domain']}" if self.chance(0.8) else None,
            "hobbies": "、".join(rng.sample(HOBBIES, k=rng.randint(1, 2))) if self.chance(0.5) else None,
        }
        d["wechat"] = (d["mobile"] if self.chance(0.5) else f"{name_py}_{rng.randint(10, 99)}") if d["mobile"] else None
        if profile:
            d.update({
                "hometown": rng.choice(HOMETOWNS), "school": rng.choice(SCHOOLS),
                "sports": "、".join(rng.sample(SPORTS, k=rng.randint(1, 2))),
                "favourite_restaurants": "、".join(rng.sample(RESTAURANTS, k=2)),
                "favourite_food": rng.choice(FOODS), "pets": rng.choice(PETS), "books": rng.choice(BOOKS),
                "holidays": rng.choice(HOLIDAYS), "itinerary": rng.choice(ITINERARIES),
                "colleague_relations": rng.choice(COLLEAGUE_RELATIONS), "goals": rng.choice(GOALS),
                "birth_date": d["birth_date"] or self.birth(1965, 1995),
            })
        opened = max(c["acquired_on"], c.get("verified_on") or c["acquired_on"])
        created = _at(opened, rng.randint(9, 17), rng.randint(0, 59))
        d["created_on"] = d["changed_on"] = created
        return d

    def contacts(self, customers: list[dict]) -> list[dict]:
        rng = self.rng
        result = []
        for i, c in enumerate(customers):
            if c["customer_type"] == "org":
                if c["is_core"]:
                    roles = ["decision_maker", "influencer", "user", "purchaser"]
                    roles += rng.sample(("influencer", "user", "purchaser"), k=rng.randint(0, 2))
                    primary = 3   # the purchaser is who the salesperson calls
                else:
                    n = self.weighted((1, 2, 3, 4), (10, 25, 35, 30))
                    roles = [self.weighted(("purchaser", "decision_maker"), (7, 3))]
                    roles += [self.weighted(("decision_maker", "influencer", "user", "purchaser", "other"),
                                            (20, 25, 35, 15, 5)) for _ in range(n - 1)]
                    primary = 0
                for k, role in enumerate(roles):
                    key_person = c["is_core"] and role in ("decision_maker", "influencer", "purchaser")
                    profile = key_person or self.chance(0.1)
                    result.append(self.contact(i, c, "user" if role == "other" else role, k == primary, profile))
                    if role == "other":
                        result[-1]["deal_role"] = "other"
            elif self.chance(0.35):
                relation, role = rng.choice(RELATIVES)
                gender = self.weighted(("M", "F"), (1, 1))
                name, _ = self.person_name(gender)
                created = _at(c["acquired_on"], rng.randint(9, 17))
                result.append({
                    "_customer": i, "name": name, "gender": gender, "position": relation, "deal_role": role,
                    "is_primary": False, "mobile": self.mobile(), "note": f"客户{c['name']}的{relation}，可代为收货",
                    "created_on": created, "changed_on": created,
                })
        return result

    # -- after-sales (with the return transactions they cause) --------------------------
    def after_sales(self, customers: list[dict], txns: list[dict]) -> list[dict]:
        rng = self.rng
        by_customer: dict[int, list[int]] = {}
        for n, t in enumerate(txns):
            if t["_phase"] == 1:
                by_customer.setdefault(t["_customer"], []).append(n)
        eligible = [i for i in by_customer if by_customer[i]]
        big = [i for i in eligible if customers[i].get("value_grade") == "A"]
        result, returns = [], []
        plan = ["service"] * 70 + ["complaint"] * 45 + ["return"] * 35
        # A few big customers complained several times last year.
        repeat = rng.sample(big, k=min(4, len(big)))
        for kind in plan:
            if kind == "complaint" and repeat and self.chance(0.3):
                i = rng.choice(repeat)
                choices = [n for n in by_customer[i] if txns[n]["trade_date"] >= DEMO_TODAY - dt.timedelta(days=365)] \
                    or by_customer[i]
            else:
                i = rng.choice(eligible)
                choices = by_customer[i]
            n = rng.choice(choices)
            t = txns[n]
            code, qty, price = rng.choice(t["_lines"])
            c = customers[i]
            end = min(c.get("_stop") or DEMO_TODAY, DEMO_TODAY)
            occurred = min(t["trade_date"] + dt.timedelta(days=rng.randint(1, 40 if kind == "service" else 20)), end)
            content, resolution = rng.choice(AFTER_SALES_TEXT[kind])
            product_name = PRODUCT_BY_CODE[code][1]
            is_open = _days(occurred, DEMO_TODAY) < 30 and self.chance(0.6) or self.chance(0.04)
            bad = kind != "service"
            d = {
                "_customer": i, "_transaction": n, "_product": code, "kind": kind, "occurred_on": occurred,
                "content": content.format(product=product_name),
                "product_rating": str(rng.randint(1, 3) if kind == "return" else rng.randint(3, 5)),
                "service_rating": str(rng.randint(1, 3) if kind == "complaint" else rng.randint(3, 5)),
                "status": "open" if is_open else "closed",
                "_handled_by": rng.choice(("clerk", c["_owner"], "custodian")) if not bad else
                rng.choice((c["_owner"], MANAGER_OF_TEAM[c["_team"]], "clerk")),
                "created_on": _at(occurred, rng.randint(9, 17), rng.randint(0, 59)),
            }
            d["changed_on"] = d["created_on"]
            if not is_open:
                closed = min(occurred + dt.timedelta(days=rng.randint(0, 14)), DEMO_TODAY)
                d.update({"resolution": resolution, "closed_on": closed, "changed_on": _at(closed, 17, 30)})
            if kind == "return":
                back = max(Decimal(1), (qty / 2).to_integral_value()) if qty > 1 else qty
                d["return_quantity"] = back
                d["return_amount"] = (back * price).quantize(CENT)
                if not is_open and ("退货" in resolution or "退回" in resolution):
                    day = min(occurred + dt.timedelta(days=rng.randint(1, 5)), DEMO_TODAY)
                    created = _at(day, rng.randint(9, 17), rng.randint(0, 59))
                    returns.append({
                        "trade_date": day, "payment_method": t["payment_method"], "delivery_requirements": "上门取回退货",
                        "delivered_on": day, "note": f"退货：{content.format(product=product_name)}",
                        "created_on": created, "changed_on": created, "_customer": i, "_salesperson": t["_salesperson"],
                        "_lines": [(code, -back, price)], "_phase": 1,
                    })
            result.append(d)
        txns.extend(returns)
        return result

    # -- visits -------------------------------------------------------------------------
    def visits(self, customers: list[dict], contacts: list[dict]) -> list[dict]:
        rng = self.rng
        contacts_of: dict[int, list[int]] = {}
        for n, ct in enumerate(contacts):
            contacts_of.setdefault(ct["_customer"], []).append(n)
        per_year = {"A": 8, "B": 4, "C": 2, "D": 1, None: 1}
        result = []
        start_all = DEMO_TODAY - dt.timedelta(days=730)
        for i, c in enumerate(customers):
            stage, grade = c["_stage"], c.get("value_grade")
            start = max(start_all, c["acquired_on"])
            end = c["_stop"] if stage == "former" and not c.get("_returned") else DEMO_TODAY
            years = _days(start, end) / 365
            rate = 1.5 if stage == "potential" else per_year[grade] * (1.0 if c["customer_type"] == "org" else 0.6)
            count = max(1 if stage != "former" else 0, round(rate * years * rng.uniform(0.7, 1.3)))
            days = sorted(self.date_between(start, end) for _ in range(count))
            if stage == "former":
                days.append(min(c["_stop"] + dt.timedelta(days=rng.randint(5, 50)), DEMO_TODAY))
            for k, day in enumerate(days):
                winback = stage == "former" and k == len(days) - 1
                column = 2 if winback else (1 if stage == "potential" else 0)
                purposes = [p for p in VISIT_PURPOSES if p[3][column] > 0]
                purpose, template, next_step, _ = self.weighted(purposes, [p[3][column] for p in purposes])
                visitor = c["_owner"]
                if grade in ("A", "B") and c["customer_type"] == "org" and self.chance(0.12):
                    visitor = MANAGER_OF_TEAM[c["_team"]]
                method = self.weighted(METHODS, METHOD_WEIGHTS[grade])
                if purpose == "生日问候":
                    method = self.weighted(("phone", "message"), (1, 1))
                own = contacts_of.get(i, [])
                contact = rng.choice(own) if own and c["customer_type"] == "org" else None
                who = contacts[contact]["name"] if contact is not None else c["name"]
                product = PRODUCT_BY_CODE[self.visit_product(c, purpose)][1]
                cost = None
                if method == "visit":
                    cost = Decimal(rng.randint(20, 300)) + (Decimal(rng.randint(100, 600)) if self.chance(0.15) else 0)
                elif method == "phone":
                    cost = Decimal(rng.randint(0, 8))
                next_date = day + dt.timedelta(days=rng.randint(7, 45)) if next_step else None
                result.append({
                    "_customer": i, "_contact": contact, "_visitor": visitor, "visited_on": day, "method": method,
                    "purpose": purpose,
                    "content": template.format(contact=who, product=product, budget=rng.randint(5, 80)),
                    "cost": cost, "next_step": next_step,
                    "next_date": min(next_date, DEMO_TODAY) if next_date else None,
                    "created_on": _at(day, rng.randint(17, 20), rng.randint(0, 59)),
                })
                result[-1]["changed_on"] = result[-1]["created_on"]
        return result

    def visit_product(self, c: dict, purpose: str) -> str:
        """The product a visit is about: a device to introduce, something due to run out …"""
        bought = c.get("_products") or []
        usual = [p for prof in c["_profiles"] for p in PROFILES[prof]]
        if purpose == "新品介绍":
            pool = [p[0] for p in PRODUCTS if p[2] in DEVICE_CATEGORIES and p[0] not in bought]
        elif purpose == "补货提醒":
            pool = [p for p in bought if PRODUCT_BY_CODE[p][5]] or [p for p in usual if PRODUCT_BY_CODE[p][5]]
        else:
            pool = bought or usual
        return self.rng.choice(pool or usual)

    # -- promotions ---------------------------------------------------------------------
    def promotions(self, customers: list[dict], contacts: list[dict]) -> list[dict]:
        rng = self.rng
        primary = {ct["_customer"]: n for n, ct in enumerate(contacts) if ct.get("is_primary")}
        result = []
        for kind, name, starts, days, intent, fixed, per_target, size, weights in PROMOTIONS:
            start_day = starts.date()
            ends = starts + (dt.timedelta(hours=4) if days == 1 else dt.timedelta(days=days))

            def eligible(c, kind=kind, start_day=start_day):
                if c["acquired_on"] > start_day - dt.timedelta(days=3):
                    return False
                if c.get("_stop") and c["_stop"] < start_day and not c.get("_returned"):
                    return False
                if kind in ("mail", "sms", "email") and "NO_MAIL" in c["_tags"]:
                    return False
                if kind == "sms":
                    return c["customer_type"] == "person" and bool(c.get("mobile"))
                if kind in ("email",):
                    return c["customer_type"] == "org" and bool(c.get("email"))
                if kind == "event":
                    return c["customer_type"] == "org" and c.get("value_grade") in ("A", "B")
                if kind in ("phone", "gift"):
                    return c["_stage"] != "potential"
                if kind == "mail":
                    return c["customer_type"] == "org"
                return True
            pool = [i for i, c in enumerate(customers) if eligible(c)]
            chosen = sorted(rng.sample(pool, k=min(size, len(pool))))
            targets = []
            for i in chosen:
                response = self.weighted(RESPONSES, weights)
                responded = None
                if response != "none":
                    responded = min(start_day + dt.timedelta(days=rng.randint(0, max(1, days + 10))), DEMO_TODAY)
                targets.append({
                    "_customer": i, "_contact": primary.get(i), "response": response, "responded_on": responded,
                    "variable_cost": Decimal(per_target),
                    "note": rng.choice(RESPONSE_NOTES[response]) if response != "none" and self.chance(0.6) else None,
                    "created_on": _at(start_day - dt.timedelta(days=rng.randint(1, 5)), 10),
                })
                targets[-1]["changed_on"] = _at(responded, 16) if responded else targets[-1]["created_on"]
            created = _at(start_day - dt.timedelta(days=14), 10)
            result.append({
                "name": name, "promotion_type": kind, "starts_at": starts, "ends_at": ends, "intent": intent,
                "fixed_cost": Decimal(fixed), "variable_cost_per_target": Decimal(per_target),
                "note": f"目标客户{len(targets)}个" if targets else None,
                "created_on": created, "changed_on": created, "_owner": "marketing", "_targets": targets,
            })
        return result

    # -- key accounts -------------------------------------------------------------------
    def key_accounts(self, customers: list[dict], contacts: list[dict]):
        rng = self.rng
        people: dict[int, dict[str, list[str]]] = {}
        for ct in contacts:
            people.setdefault(ct["_customer"], {}).setdefault(ct["deal_role"], []).append(
                f"{ct['name']}（{ct['position']}）")
        projects, competitors = [], []
        for i, c in enumerate(customers):
            if not c["is_core"]:
                continue
            for _ in range(rng.randint(1, 2)):
                name, plan, problem, timeline = rng.choice(PROJECT_TEMPLATES)
                status = self.weighted(("planning", "evaluating", "negotiating", "won", "lost"), (20, 25, 20, 25, 10))
                decided = self.date_between(DEMO_TODAY - dt.timedelta(days=400), DEMO_TODAY)
                created = _at(decided - dt.timedelta(days=rng.randint(60, 150)), 10)
                projects.append({
                    "_customer": i, "name": name.format(year=decided.year), "plan": plan.format(n=rng.randint(10, 120)),
                    "problem": problem, "budget": Decimal(rng.randint(5, 150) * 10000),
                    "expected_decision_on": decided, "timeline": timeline, "status": status,
                    "decision_makers": "、".join(people[i].get("decision_maker", [])) or None,
                    "influencers": "、".join(people[i].get("influencer", [])) or None,
                    "procurement_process": rng.choice(PROCUREMENT),
                    "created_on": created, "changed_on": created,
                })
            for _ in range(rng.randint(1, 3)):
                if self.chance(0.25):
                    competitor = rng.choice(ONLINE_COMPETITORS)
                else:
                    brand, _ = rng.choice(BRANDS)
                    competitor = f"{c['city'].removesuffix('市')}{brand}办公设备有限公司"
                if any(x["competitor"] == competitor and x["_customer"] == i for x in competitors):
                    continue
                created = _at(self.date_between(DEMO_TODAY - dt.timedelta(days=500), DEMO_TODAY), 11)
                competitors.append({
                    "_customer": i, "competitor": competitor, "products": rng.choice(COMPETITOR_PRODUCTS),
                    "satisfaction": self.weighted(("high", "medium", "low"), (3, 4, 3)),
                    "sales_rep": rng.choice(COMPETITOR_REPS), "relationship_note": rng.choice(COMPETITOR_NOTES),
                    "created_on": created, "changed_on": created,
                })
        return projects, competitors

    # -- the whole archive --------------------------------------------------------------
    def routes(self, customers: list[dict]) -> None:
        by_route: dict[str, list[dict]] = {}
        for c in customers:
            if c.get("_route"):
                by_route.setdefault(c["_route"], []).append(c)
        for route in sorted(by_route):
            ordered = sorted(by_route[route], key=lambda c: (c["city"], c["district"], c["street"], c["name"]))
            for n, c in enumerate(ordered, start=1):
                c["route_order"] = n

    def card_dates(self, customers: list[dict]) -> None:
        """When the card was opened and last edited (some left untouched for a long time)."""
        rng = self.rng
        for c in customers:
            c["created_on"] = _at(c["acquired_on"], rng.randint(9, 17), rng.randint(0, 59))
            last = max(filter(None, (c["acquired_on"], c.get("verified_on"), c.get("_first_trade"), c.get("_stop"),
                                     c.get("credit_report_date"))))
            if c.get("_returned"):
                last = DEMO_TODAY - dt.timedelta(days=self.rng.randint(0, 30))
            if self.chance(0.7):
                last = self.date_between(last, DEMO_TODAY)
            c["_changed_on"] = _at(last, rng.randint(9, 17), rng.randint(0, 59))

    def run(self) -> DemoData:
        customers = self.customers()
        self.sources(customers)
        self.routes(customers)
        txns, formers = self.transactions(customers)
        self.grades(customers, txns)
        self.card_dates(customers)
        contacts = self.contacts(customers)
        after_sales = self.after_sales(customers, txns)
        visits = self.visits(customers, contacts)
        promotions = self.promotions(customers, contacts)
        projects, competitors = self.key_accounts(customers, contacts)
        return DemoData(customers, contacts, txns, formers, after_sales, visits, promotions, projects, competitors)


def generate(seed: int = 20260101) -> DemoData:
    """The demo archive as plain data: the same seed always gives the same archive."""
    return _Generator(seed).run()


# ---------------------------------------------------------------------------------------
# Writing it
# ---------------------------------------------------------------------------------------

def _columns(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def ensure_users(appbuilder) -> tuple[dict, int]:
    """The demo users by username (existing ones are left as they are), and how many were added."""
    sm = appbuilder.sm
    users, added = {}, 0
    for spec in DEMO_USERS:
        user = sm.find_user(username=spec["username"])
        if user is None:
            role = sm.find_role(spec["role"]) or sm.add_role(spec["role"])
            user = sm.add_user(spec["username"], spec["first_name"], spec["last_name"],
                               f"{spec['username']}@{USER_EMAIL_DOMAIN}", role, DEMO_PASSWORD)
            if not user:
                raise RuntimeError(f"could not create demo user {spec['username']}")
            added += 1
        users[spec["username"]] = user
    return users, added


def ensure_teams(session, users: dict) -> tuple[dict, int]:
    import sqlalchemy as sa

    from portal.models import SalesTeam

    teams, added = {}, 0
    for spec in DEMO_TEAMS:
        team = session.scalar(sa.select(SalesTeam).where(SalesTeam.name == spec["name"]))
        if team is None:
            team = SalesTeam(name=spec["name"], manager_id=users[spec["manager"]].id,
                             members=[users[u] for u in spec["members"]])
            session.add(team)
            added += 1
        teams[spec["name"]] = team
    session.flush()
    return teams, added


def ensure_products(session) -> tuple[dict, int]:
    import sqlalchemy as sa

    from portal.models import Product, ProductCategory

    categories = {c.code: c for c in session.scalars(sa.select(ProductCategory))}
    existing = {p.code: p for p in session.scalars(sa.select(Product).where(Product.code.in_(PRODUCT_BY_CODE)))}
    added = 0
    for code, name, category, unit, price, cycle, description in PRODUCTS:
        if code in existing:
            continue
        product = Product(code=code, name=name, category=categories.get(category), unit=unit,
                          list_price=Decimal(price), replenish_cycle_days=cycle, description=description, active=True,
                          created_on=dt.datetime(2023, 10, 20, 10, 0), changed_on=dt.datetime(2023, 10, 20, 10, 0))
        session.add(product)
        existing[code] = product
        added += 1
    session.flush()
    return existing, added


def _code_maps(session) -> dict:
    import sqlalchemy as sa

    from portal import models

    names = ("Region", "Route", "Industry", "Source", "OwnershipType", "ChannelType", "Tag", "PriceList")
    return {name: {row.code: row for row in session.scalars(sa.select(getattr(models, name)))} for name in names}


def load_demo(session, appbuilder, seed: int = 20260101) -> dict:
    """Load the demo users, teams, products and archive; returns how many rows of each were added.

    Users, teams and products that exist already are kept; when the archive of this seed is
    present already (its credit codes are found) only the users/teams/products are ensured.
    """
    import sqlalchemy as sa

    from portal.context import acting_as
    from portal.models import (
        AfterSales, CompetitorPresence, Contact, Customer, LifecycleEvent, Promotion, PromotionTarget,
        PurchaseProject, Transaction, TransactionLine, Visit,
    )
    from portal.seeds.codes import load_code_tables
    from portal.services import lifecycle, numbering

    started = time.perf_counter()
    load_code_tables(session)
    users, users_added = ensure_users(appbuilder)
    uid = {name: user.id for name, user in users.items()}
    summary = {"users": users_added}
    data = generate(seed)

    with acting_as(uid["clerk"]):
        teams, summary["teams"] = ensure_teams(session, users)
        products, summary["products"] = ensure_products(session)
        codes = [c["credit_code"] for c in data.customers if c.get("credit_code")]
        present = session.scalar(sa.select(sa.func.count()).select_from(Customer)
                                 .where(Customer.credit_code.in_(codes)))
        if present:
            summary["customers"] = 0
            summary["skipped"] = "demo archive present"
            return summary
        maps = _code_maps(session)
        product_id = {code: p.id for code, p in products.items()}
        events_before = session.scalar(sa.select(sa.func.count()).select_from(LifecycleEvent))

        # Cards, in the order they were opened (numbers follow the acquisition date). A card
        # referred by a card of the unflushed batch starts a new batch, so the referrer has
        # its id and the rows go in in order (ids follow the numbers).
        customers, batch = [], []
        for d in data.customers:
            referrer = customers[d["_referred_by"]] if d.get("_referred_by") is not None else None
            if referrer is not None and referrer.id is None:
                session.add_all(batch)
                session.flush()
                batch = []
            c = Customer(**_columns(d))
            c.number = numbering.next_number(session, Customer, today=d["acquired_on"])
            c.region_id = maps["Region"][d["_region"]].id
            c.route_id = maps["Route"][d["_route"]].id if d.get("_route") else None
            c.price_list_id = maps["PriceList"][d["_price_list"]].id
            c.industry_id = maps["Industry"][d["_industry"]].id if d.get("_industry") else None
            c.ownership_type_id = maps["OwnershipType"][d["_ownership"]].id if d.get("_ownership") else None
            c.channel_type_id = maps["ChannelType"][d["_channel"]].id if d.get("_channel") else None
            c.source_id = maps["Source"][d["_source"]].id
            c.owner_id = uid[d["_owner"]]
            c.team_id = teams[d["_team"]].id
            c.changed_on = c.created_on
            if referrer is not None:
                c.referred_by_id = referrer.id
            if d.get("_referred_by_employee"):
                c.referred_by_employee_id = uid[d["_referred_by_employee"]]
            if d.get("_verified_by"):
                c.verified_by_id = uid[d["_verified_by"]]
            c.tags = [maps["Tag"][t] for t in d["_tags"]]
            customers.append(c)
            batch.append(c)
        session.add_all(batch)
        session.flush()

        contacts = [Contact(customer_id=customers[d["_customer"]].id, **_columns(d)) for d in data.contacts]
        session.add_all(contacts)
        session.flush()

        # Transactions in date order: the flush hook makes each card current on its first one.
        def add_transactions(rows):
            added = []
            for d in sorted(rows, key=lambda r: (r["trade_date"], r["created_on"])):
                t = Transaction(customer_id=customers[d["_customer"]].id, salesperson_id=uid[d["_salesperson"]],
                                **_columns(d))
                t.number = numbering.next_number(session, Transaction, today=d["trade_date"])
                t.lines = [TransactionLine(product_id=product_id[code], quantity=qty, unit_price=price)
                           for code, qty, price in d["_lines"]]
                d["_object"] = t
                added.append(t)
            session.add_all(added)
            session.flush()
            return added

        txns = add_transactions([d for d in data.transactions if d["_phase"] == 1])
        for f in sorted(data.formers, key=lambda f: f["on"]):
            lifecycle.mark_former(session, customers[f["_customer"]], f["reason"], on=f["on"])
        session.flush()
        txns += add_transactions([d for d in data.transactions if d["_phase"] == 2])

        after_sales = []
        for d in data.after_sales:
            a = AfterSales(customer_id=customers[d["_customer"]].id, **_columns(d))
            a.transaction_id = data.transactions[d["_transaction"]]["_object"].id
            a.product_id = product_id[d["_product"]]
            a.handled_by_id = uid[d["_handled_by"]]
            after_sales.append(a)
        session.add_all(after_sales)
        session.flush()

        # Visits are filed by the visitor (created_by is who made the visit or call).
        visits = 0
        for visitor in sorted({d["_visitor"] for d in data.visits}):
            with acting_as(uid[visitor]):
                rows = [Visit(customer_id=customers[d["_customer"]].id, visitor_id=uid[visitor],
                              contact_id=contacts[d["_contact"]].id if d["_contact"] is not None else None,
                              **_columns(d)) for d in data.visits if d["_visitor"] == visitor]
                session.add_all(rows)
                session.flush()
                visits += len(rows)

        targets = 0
        with acting_as(uid["marketing"]):
            for d in data.promotions:
                p = Promotion(owner_id=uid[d["_owner"]], **_columns(d))
                p.targets = [
                    PromotionTarget(customer_id=customers[t["_customer"]].id,
                                    contact_id=contacts[t["_contact"]].id if t["_contact"] is not None else None,
                                    **_columns(t))
                    for t in d["_targets"]]
                targets += len(p.targets)
                session.add(p)
            session.flush()

        for d in data.projects:
            session.add(PurchaseProject(customer_id=customers[d["_customer"]].id, **_columns(d)))
        for d in data.competitors:
            session.add(CompetitorPresence(customer_id=customers[d["_customer"]].id, **_columns(d)))
        session.flush()

        # The card's last edit: set after the stage changes, which stamp it with the real time.
        table = Customer.__table__
        session.execute(
            sa.update(table).where(table.c.id == sa.bindparam("b_id")).values(changed_on=sa.bindparam("b_changed")),
            [{"b_id": c.id, "b_changed": d["_changed_on"]} for c, d in zip(customers, data.customers)],
        )
        for c in customers:
            session.expire(c, ["changed_on"])

    summary.update({
        "customers": len(customers),
        "contacts": len(contacts),
        "transactions": len(txns),
        "transaction_lines": sum(len(t.lines) for t in txns),
        "lifecycle_events": session.scalar(sa.select(sa.func.count()).select_from(LifecycleEvent)) - events_before,
        "marked_former": len(data.formers),
        "after_sales": len(after_sales),
        "visits": visits,
        "promotions": len(data.promotions),
        "promotion_targets": targets,
        "purchase_projects": len(data.projects),
        "competitors": len(data.competitors),
        "seconds": round(time.perf_counter() - started, 1),
    })
    return summary


def login_help() -> str:
    """The demo logins, one line per user (Chinese and English)."""
    from portal.seeds.roles import load_roles

    roles = load_roles()["roles"]
    lines = [f"演示账号 Demo logins — 密码 password: {DEMO_PASSWORD}"]
    for spec in DEMO_USERS:
        zh, en = ROLE_LABELS.get(spec["role"]) or (roles[spec["role"]]["zh"], roles[spec["role"]]["en"])
        team = f"，{spec['team']}" if spec.get("team") else ""
        lines.append(f"  登录 Login: {spec['username']:<10} / {DEMO_PASSWORD}  "
                     f"{spec['last_name']}{spec['first_name']}（{zh} {en}{team}）")
    return "\n".join(lines)
