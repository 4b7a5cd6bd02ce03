"""Word lists and identifiers for demo data: names, companies, places, phones, credit codes.

Everything here is a pure function of a `random.Random`, so the same seed gives the same data.
Identifiers that must be unique (phones, e-mails, credit codes) are derived from the row's
index through a bijection, so they never collide however many rows are made.
"""

import random

from stdnum.cn import uscc

# Common surnames, weighted roughly by frequency, with the heteronyms search must handle
# (曾 zeng, 单 shan, 区 ou, 仇 qiu, 朴 piao, 解 xie, 查 zha, 盖 ge) and two compound surnames.
SURNAMES = (
    ("王", 72), ("李", 71), ("张", 68), ("刘", 52), ("陈", 45), ("杨", 31), ("黄", 25), ("赵", 23),
    ("吴", 21), ("周", 20), ("徐", 15), ("孙", 14), ("马", 13), ("朱", 13), ("胡", 12), ("郭", 11),
    ("何", 11), ("林", 10), ("高", 10), ("罗", 10), ("郑", 9), ("梁", 9), ("谢", 8), ("宋", 7),
    ("唐", 7), ("许", 7), ("韩", 7), ("冯", 6), ("邓", 6), ("曹", 6), ("彭", 6), ("曾", 6),
    ("肖", 5), ("田", 5), ("董", 5), ("袁", 5), ("潘", 5), ("于", 5), ("蒋", 5), ("蔡", 5),
    ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 4), ("魏", 4), ("吕", 4), ("丁", 4),
    ("任", 4), ("沈", 4), ("姚", 3), ("卢", 3), ("姜", 3), ("崔", 3), ("钟", 3), ("谭", 3),
    ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3), ("廖", 3), ("贾", 3), ("夏", 3),
    ("韦", 3), ("付", 3), ("方", 3), ("白", 2), ("邹", 2), ("孟", 2), ("熊", 2), ("秦", 2),
    ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2), ("段", 2), ("雷", 2), ("侯", 2),
    ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2), ("毛", 2), ("郝", 2),
    ("单", 1), ("区", 1), ("仇", 1), ("朴", 1), ("解", 1), ("查", 1), ("盖", 1), ("欧阳", 1),
    ("司马", 1), ("诸葛", 1),
)
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林建国志文博晨阳峰成东亮海斌坤"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英红梅琳燕彤雪婷慧颖倩琪晶欣怡佳悦雯璐菲蕾瑶萍月春兰"
GIVEN_EITHER = "文华玉晓小子一思嘉雨云天新永立世宏德振家安雅晴心梦欣若诗"

ENGLISH_FIRST_MALE = ("James", "John", "Robert", "Michael", "David", "William", "Richard", "Thomas", "Daniel", "Mark",
                      "Paul", "Andrew", "Peter", "Kevin", "Brian", "George", "Edward", "Oliver", "Henry", "Lucas")
ENGLISH_FIRST_FEMALE = ("Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen",
                        "Emily", "Emma", "Olivia", "Sophia", "Grace", "Chloe", "Hannah", "Laura", "Rachel", "Anna")
ENGLISH_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
                "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
                "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter")

# (province, city, weight, administrative division code of the city, for credit codes)
CITIES = (
    ("上海市", "上海", 12, "310000"), ("北京市", "北京", 11, "110000"), ("广东省", "广州", 8, "440100"),
    ("广东省", "深圳", 9, "440300"), ("广东省", "东莞", 3, "441900"), ("广东省", "佛山", 3, "440600"),
    ("浙江省", "杭州", 7, "330100"), ("浙江省", "宁波", 4, "330200"), ("浙江省", "温州", 3, "330300"),
    ("江苏省", "南京", 5, "320100"), ("江苏省", "苏州", 6, "320500"), ("江苏省", "无锡", 3, "320200"),
    ("四川省", "成都", 6, "510100"), ("重庆市", "重庆", 5, "500000"), ("湖北省", "武汉", 5, "420100"),
    ("陕西省", "西安", 4, "610100"), ("天津市", "天津", 4, "120000"), ("湖南省", "长沙", 4, "430100"),
    ("山东省", "青岛", 4, "370200"), ("山东省", "济南", 3, "370100"), ("河南省", "郑州", 4, "410100"),
    ("福建省", "厦门", 3, "350200"), ("福建省", "福州", 3, "350100"), ("安徽省", "合肥", 3, "340100"),
    ("辽宁省", "沈阳", 3, "210100"), ("辽宁省", "大连", 3, "210200"), ("云南省", "昆明", 2, "530100"),
    ("黑龙江省", "哈尔滨", 2, "230100"), ("吉林省", "长春", 2, "220100"), ("河北省", "石家庄", 2, "130100"),
    ("山西省", "太原", 2, "140100"), ("江西省", "南昌", 2, "360100"), ("广西壮族自治区", "南宁", 2, "450100"),
    ("贵州省", "贵阳", 2, "520100"), ("甘肃省", "兰州", 1, "620100"), ("海南省", "海口", 1, "460100"),
    ("内蒙古自治区", "呼和浩特", 1, "150100"), ("新疆维吾尔自治区", "乌鲁木齐", 1, "650100"),
)
STREETS = ("人民路", "中山路", "解放路", "建设路", "南京路", "长江路", "科技园路", "滨江大道", "和平路", "东风路",
           "新华路", "文化路", "世纪大道", "高新大道", "花园路")

COMPANY_STEMS = ("华鑫", "恒通", "金泰", "瑞丰", "盛达", "宏远", "天成", "新元", "博雅", "东方", "中科", "凯旋", "永盛",
                 "鼎立", "嘉禾", "星辰", "安信", "锦程", "正泰", "海纳", "汇通", "联创", "启明", "德润", "华夏", "卓越",
                 "万达", "同舟", "蓝海", "青松")
# (Chinese suffix, English word, industry label)
COMPANY_TRADES = (
    ("科技", "Technology", "信息技术"), ("贸易", "Trading", "批发零售"), ("电子", "Electronics", "电子制造"),
    ("机械", "Machinery", "装备制造"), ("医药", "Pharmaceutical", "医药健康"), ("食品", "Foods", "食品饮料"),
    ("物流", "Logistics", "交通物流"), ("建材", "Building Materials", "建筑建材"), ("服饰", "Apparel", "纺织服装"),
    ("家居", "Home Furnishing", "家居用品"), ("环保", "Environmental", "节能环保"), ("文化传媒", "Media", "文化传媒"),
    ("餐饮管理", "Catering", "餐饮"), ("汽车服务", "Automotive", "汽车"), ("教育咨询", "Education", "教育培训"),
)
COMPANY_FORMS = ("有限公司", "股份有限公司", "集团有限公司")
ENGLISH_COMPANY_STEMS = ("Northwind", "Blue Harbor", "Summit", "Pacific Rim", "Silverline", "Greenfield", "Evergreen",
                         "Redwood", "Brightstar", "Oakridge", "Lakeside", "Horizon")

EMAIL_DOMAINS = ("example.com", "example.cn", "example.net", "example.org")  # RFC 2606: never real inboxes
# Mobile prefixes in service in mainland China (validated by phonenumbers in the tests).
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
                   "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "185", "186", "187", "188", "189",
                   "198", "199")

_SURNAME_VALUES = [s for s, _ in SURNAMES]
_SURNAME_WEIGHTS = [w for _, w in SURNAMES]
_CITY_WEIGHTS = [c[2] for c in CITIES]


def chinese_name(rng: random.Random, gender: str) -> str:
    surname = rng.choices(_SURNAME_VALUES, _SURNAME_WEIGHTS)[0]
    pool = (GIVEN_MALE if gender == "m" else GIVEN_FEMALE) + GIVEN_EITHER
    given = rng.choice(pool) if rng.random() < 0.35 else rng.choice(GIVEN_EITHER + pool) + rng.choice(pool)
    return surname + given


def english_name(rng: random.Random, gender: str) -> str:
    first = rng.choice(ENGLISH_FIRST_MALE if gender == "m" else ENGLISH_FIRST_FEMALE)
    return f"{first} {rng.choice(ENGLISH_LAST)}"


def city(rng: random.Random) -> tuple[str, str, str]:
    """(province, city, division code)."""
    province, name, _weight, code = rng.choices(CITIES, _CITY_WEIGHTS)[0]
    return province, name, code


def address(rng: random.Random, city_name: str) -> str:
    return f"{city_name}市{rng.choice(STREETS)}{rng.randint(1, 999)}号"


def company_name(rng: random.Random, city_name: str, english: bool) -> tuple[str, str]:
    """(name, industry)."""
    chinese_suffix, english_word, industry = rng.choice(COMPANY_TRADES)
    if english:
        form = rng.choice(("Co., Ltd.", "Ltd.", "Group"))
        return f"{rng.choice(ENGLISH_COMPANY_STEMS)} {english_word} {form}", industry
    return f"{city_name}{rng.choice(COMPANY_STEMS)}{chinese_suffix}{rng.choice(COMPANY_FORMS)}", industry


def _scramble(index: int, modulus: int, multiplier: int, offset: int) -> int:
    """A bijection on range(modulus) (multiplier coprime to modulus): unique ids that look random."""
    return (index * multiplier + offset) % modulus


def mobile(rng: random.Random, index: int) -> str:
    """A valid, unique Chinese mobile number in E.164 (as the customer services store it)."""
    return f"+86{rng.choice(MOBILE_PREFIXES)}{_scramble(index, 10**8, 48_271_007, 12_345_678):08d}"


def email(rng: random.Random, handle: str, index: int) -> str:
    handle = "".join(c for c in handle.casefold() if c.isascii() and (c.isalnum() or c == ".")) or "kehu"
    return f"{handle}{index}@{rng.choice(EMAIL_DOMAINS)}"


def credit_code(rng: random.Random, division: str, index: int) -> str:
    """A unified social credit code (GB 32100) with valid organisation-code and final check digits."""
    body = f"{_scramble(index, 10**8, 91_873_211, 20_260_101):08d}"
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    remainder = 11 - sum(int(d) * w for d, w in zip(body, weights)) % 11
    org_check = {10: "X", 11: "0"}.get(remainder, str(remainder))
    partial = "91" + division + body + org_check
    return partial + uscc.calc_check_digit(partial)
