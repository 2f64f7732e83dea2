"""A realistic Shanghai directory for search tests.

Names and addresses are real: the rows the insurer's manual lists (§9.7 direct
billing medical and dental, §9.8 designated) and hospitals mapped in
OpenStreetMap. Departments, grades and networks are set to give every filter
something to bite on; the network ids are test values.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from server.directory.directory import Directory, District, Network, make_directory
from server.directory.models import (
    Category,
    Department,
    Facility,
    FacilityKind,
    Ownership,
)
from server.search import SearchEngine, analysis
from server.search.factory import build_engine

MEDICAL, DENTAL, DESIGNATED = FacilityKind.MEDICAL, FacilityKind.DENTAL, FacilityKind.DESIGNATED
PUBLIC, PRIVATE = Ownership.PUBLIC, Ownership.PRIVATE

PLAN = "test-group-plan"
OTHER_PLAN = "test-other-plan"

DEPARTMENTS = {
    "全科": "General Practice",
    "传统中医科": "Traditional Chinese Medicine",
    "内分泌科": "Endocrinology",
    "肛肠科": "Proctology",
    "肿瘤科": "Oncology",
    "心内科": "Cardiology",
    "泌尿科": "Urology",
    "普外科": "General Surgery",
    "齿科": "Dentistry",
    "儿科": "Paediatrics",
    "妇科": "Gynaecology",
    "眼科": "Ophthalmology",
    "耳鼻喉科": "Otolaryngology (ENT)",
    "呼吸内科": "Respiratory Medicine",
    "急诊科": "Emergency Medicine",
}

DISTRICTS = (
    District("上海", "Shanghai", "浦东新区", "Pudong New Area", "310115"),
    District("上海", "Shanghai", "黄浦区", "Huangpu District", "310101"),
    District("上海", "Shanghai", "徐汇区", "Xuhui District", "310104"),
    District("上海", "Shanghai", "长宁区", "Changning District", "310105"),
    District("上海", "Shanghai", "静安区", "Jing'an District", "310106"),
    District("上海", "Shanghai", "闵行区", "Minhang District", "310112"),
    District("上海", "Shanghai", "杨浦区", "Yangpu District", "310110"),
)


def facility(
    n: int,
    kind: FacilityKind,
    name_zh: str,
    name_en: str,
    address_zh: str,
    address_en: str,
    district: str,
    lat: float,
    lng: float,
    *,
    ownership: Ownership = PUBLIC,
    grade: str = "",
    category: Category = Category.GENERAL,
    departments: tuple[str, ...] = (),
    networks: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    city: str = "上海",
) -> Facility:
    return Facility(
        id=f"t{n:03d}",
        kind=kind,
        name_zh=name_zh,
        name_en=name_en,
        address_zh=address_zh,
        address_en=address_en,
        city=city,
        district=district,
        lat=lat,
        lng=lng,
        ownership=ownership,
        grade=grade,
        category=category,
        departments=tuple(Department(zh, DEPARTMENTS[zh]) for zh in departments),
        phone="",
        opening_hours="",
        languages=("zh", "en"),
        networks=networks,
        source="test corpus: seed 000 §9.7-9.8 and OpenStreetMap names",
        verified_on=date(2026, 1, 1),
        tags=tags,
    )


def corpus() -> list[Facility]:
    g3a = "三甲"
    return [
        facility(1, MEDICAL, "上海中医药大学附属曙光医院(东部)特诊部", "Shuguang Hospital (East Campus) Special Clinic", "上海市浦东新区张衡路528号2号楼1楼", "1/F, Building 2, No. 528 Zhangheng Road, Pudong New Area", "浦东新区", 31.1886, 121.5898, grade=g3a, category=Category.TCM, departments=("传统中医科", "内分泌科", "肛肠科", "肿瘤科"), networks=(PLAN,), tags=("特诊部",)),
        facility(2, MEDICAL, "上海交通大学医学院附属仁济医院特约门诊", "Renji Hospital Special Outpatient Clinic", "上海市浦东新区北园路33号9号楼1楼", "1/F, Building 9, No. 33 Beiyuan Road, Pudong New Area", "浦东新区", 31.2090, 121.5179, grade=g3a, departments=("全科",), networks=(PLAN,)),
        facility(3, MEDICAL, "上海交通大学医学院附属仁济医院特需部(浦东分院)", "Renji Hospital VIP Department (Pudong Branch)", "上海市浦东新区北园路33号9号楼3楼", "3/F, Building 9, No. 33 Beiyuan Road, Pudong New Area", "浦东新区", 31.2090, 121.5179, grade=g3a, departments=("心内科", "泌尿科", "普外科"), networks=(PLAN,), tags=("特需部",)),
        facility(4, MEDICAL, "同济大学附属东方医院特诊部", "Shanghai East Hospital Special Clinic", "上海市浦东新区即墨路150号", "No. 150 Jimo Road, Pudong New Area", "浦东新区", 31.2397, 121.5079, grade=g3a, departments=("全科", "心内科"), networks=(PLAN, OTHER_PLAN), tags=("特诊部",)),
        facility(5, MEDICAL, "上海交通大学医学院附属仁济医院", "Renji Hospital, Shanghai Jiao Tong University School of Medicine", "上海市黄浦区山东中路145号", "No. 145 Middle Shandong Road, Huangpu District", "黄浦区", 31.2356, 121.4796, grade=g3a, departments=("全科", "心内科", "急诊科")),
        facility(6, MEDICAL, "复旦大学附属华山医院", "Huashan Hospital, Fudan University", "上海市静安区乌鲁木齐中路12号", "No. 12 Middle Urumqi Road, Jing'an District", "静安区", 31.2179, 121.4384, grade=g3a, departments=("全科", "急诊科"), networks=(OTHER_PLAN,)),
        facility(7, MEDICAL, "复旦大学附属华山医院（浦东院区）", "Fudan University Huashan Hospital (Pudong Campus)", "上海市浦东新区红枫路525号", "No. 525 Hongfeng Road, Pudong New Area", "浦东新区", 31.2423, 121.5923, grade=g3a, departments=("全科",)),
        facility(8, MEDICAL, "上海中医药大学附属曙光医院", "Shuguang Hospital", "上海市黄浦区普安路185号", "No. 185 Pu'an Road, Huangpu District", "黄浦区", 31.2248, 121.4747, grade=g3a, category=Category.TCM, departments=("传统中医科",)),
        facility(9, MEDICAL, "上海东方医院", "Shanghai East Hospital", "上海市浦东新区即墨路150号", "No. 150 Jimo Road, Pudong New Area", "浦东新区", 31.2397, 121.5079, grade=g3a, departments=("急诊科", "心内科")),
        facility(10, MEDICAL, "复旦大学附属中山医院", "Zhongshan Hospital", "上海市徐汇区枫林路180号", "No. 180 Fenglin Road, Xuhui District", "徐汇区", 31.1994, 121.4503, grade=g3a, departments=("心内科", "急诊科"), networks=(PLAN,)),
        facility(11, MEDICAL, "上海市第六人民医院", "Shanghai Sixth People's Hospital", "上海市徐汇区宜山路600号", "No. 600 Yishan Road, Xuhui District", "徐汇区", 31.1803, 121.4177, grade=g3a, departments=("急诊科",)),
        facility(12, MEDICAL, "上海市第十人民医院", "Shanghai Tenth People's Hospital", "上海市静安区延长中路301号", "No. 301 Middle Yanchang Road, Jing'an District", "静安区", 31.2738, 121.4489, grade=g3a, departments=("急诊科",)),
        facility(13, MEDICAL, "上海市胸科医院", "Shanghai Chest Hospital", "上海市徐汇区淮海西路241号", "No. 241 West Huaihai Road, Xuhui District", "徐汇区", 31.1996, 121.4216, grade=g3a, category=Category.SPECIALIST, departments=("心内科", "呼吸内科")),
        facility(14, MEDICAL, "复旦大学附属眼耳鼻喉科医院", "Eye and ENT Hospital of Fudan University", "上海市徐汇区汾阳路83号", "No. 83 Fenyang Road, Xuhui District", "徐汇区", 31.2110, 121.4488, grade=g3a, category=Category.SPECIALIST, departments=("眼科", "耳鼻喉科")),
        facility(15, MEDICAL, "上海儿童医学中心", "Shanghai Children's Medical Center", "上海市浦东新区东方路1678号", "No. 1678 Dongfang Road, Pudong New Area", "浦东新区", 31.2078, 121.5183, grade=g3a, category=Category.SPECIALIST, departments=("儿科",), networks=(PLAN,)),
        facility(16, MEDICAL, "仁济医院南院", "Renji Hospital South", "上海市闵行区江月路2000号", "No. 2000 Jiangyue Road, Minhang District", "闵行区", 31.0838, 121.4941, grade=g3a, departments=("全科",)),
        facility(17, MEDICAL, "上海嘉会国际医院", "Jiahui International Hospital", "上海市徐汇区桂平路689号", "No. 689 Guiping Road, Xuhui District", "徐汇区", 31.1773, 121.3957, ownership=PRIVATE, departments=("全科", "儿科", "妇科"), networks=(PLAN,)),
        facility(18, MEDICAL, "上海市红房子妇产科医院", "Obstetrics and Gynecology Hospital of Fudan University", "上海市黄浦区方斜路419号", "No. 419 Fangxie Road, Huangpu District", "黄浦区", 31.2159, 121.4787, grade=g3a, category=Category.SPECIALIST, departments=("妇科",)),
        facility(19, MEDICAL, "新华医院", "Xinhua Hospital", "上海市杨浦区控江路1665号", "No. 1665 Kongjiang Road, Yangpu District", "杨浦区", 31.2752, 121.5135, grade=g3a, departments=("儿科", "急诊科")),
        facility(20, MEDICAL, "杨浦区中心医院中原分院", "YangPu Central Hospital", "上海市杨浦区开鲁路500号", "No. 500 Kailu Road, Yangpu District", "杨浦区", 31.3272, 121.5235, grade="二甲", departments=("全科",)),
        facility(21, MEDICAL, "黄渡社区卫生服务中心", "Huangdu Community Health Service Center", "上海市嘉定区黄渡镇", "Huangdu Town, Jiading District", "嘉定区", 31.2734, 121.2142, grade="一级", departments=("全科",)),
        facility(22, MEDICAL, "上海联洋社区卫生服务中心", "Shanghai Lianyang Neighborhood Hospital", "上海市浦东新区联洋", "Lianyang, Pudong New Area", "浦东新区", 31.2290, 121.5571, grade="一级", departments=("全科",)),
        facility(23, MEDICAL, "仁济医院北院", "", "上海市浦东新区", "", "浦东新区", 31.2347, 121.5469, grade=g3a, departments=("全科",)),
        facility(31, DENTAL, "瑞尔时代诊所", "Arrail Dental Shidai Clinic", "上海市浦东新区张杨路500号华润时代广场", "No. 500 Zhangyang Road, Pudong New Area", "浦东新区", 31.2308, 121.5271, ownership=PRIVATE, category=Category.DENTAL, departments=("齿科",), networks=(PLAN,)),
        facility(32, DENTAL, "瑞尔正大诊所", "Arrail Dental Zhengda Clinic", "上海市浦东新区陆家嘴西路168号正大广场", "No. 168 West Lujiazui Road, Pudong New Area", "浦东新区", 31.2376, 121.4996, ownership=PRIVATE, category=Category.DENTAL, departments=("齿科",), networks=(PLAN,)),
        facility(33, DENTAL, "上海瑞尔碧云诊所", "Arrail Dental Biyun Clinic", "上海市浦东新区金桥碧云路1208号2楼", "2/F, No. 1208 Biyun Road, Jinqiao, Pudong New Area", "浦东新区", 31.2440, 121.5890, ownership=PRIVATE, category=Category.DENTAL, departments=("齿科",), networks=(PLAN,)),
        facility(34, DENTAL, "上海瑞尔联洋诊所", "Arrail Dental Lianyang Clinic", "上海市浦东新区民生路1286号汇商大厦19楼", "19/F, Huishang Building, No. 1286 Minsheng Road, Pudong New Area", "浦东新区", 31.2270, 121.5530, ownership=PRIVATE, category=Category.DENTAL, departments=("齿科",), networks=(PLAN,)),
        facility(35, DENTAL, "上海瑞尔美学诊所", "Arrail Dental Aesthetic Clinic", "上海市浦东新区", "Pudong New Area", "浦东新区", 31.2215, 121.5443, ownership=PRIVATE, category=Category.DENTAL, departments=("齿科",), networks=(PLAN,)),
        facility(36, DENTAL, "上海市徐汇区牙病防治所", "Xuhui District Dental Disease Prevention Institute", "上海市徐汇区枫林路500号", "No. 500 Fenglin Road, Xuhui District", "徐汇区", 31.1913, 121.4551, category=Category.DENTAL, departments=("齿科",)),
        facility(37, DENTAL, "淞康口腔门诊部", "Songkang Dental Clinic", "上海市宝山区淞滨路", "Songbin Road, Baoshan District", "宝山区", 31.3476, 121.4868, ownership=PRIVATE, category=Category.DENTAL, departments=("齿科",)),
        facility(41, DESIGNATED, "上海和睦家医院", "Shanghai United Family Hospital", "上海市长宁区仙霞路1139号", "No. 1139 Xianxia Road, Changning District", "长宁区", 31.2085, 121.3602, ownership=PRIVATE, departments=("全科", "儿科", "妇科"), networks=(OTHER_PLAN,)),
        facility(42, DESIGNATED, "上海和睦家新城医院", "Shanghai United Family Xincheng Hospital", "上海市自由贸易试验区新金桥路1598号", "No. 1598 Xinjinqiao Road, Pudong New Area", "浦东新区", 31.2670, 121.6010, ownership=PRIVATE, departments=("全科", "急诊科")),
        facility(43, DESIGNATED, "上海和睦家丰尚诊所", "Shanghai United Family Fengshang Clinic", "上海市闵行区运乐路673号", "No. 673 Yunle Road, Minhang District", "闵行区", 31.2050, 121.2767, ownership=PRIVATE, departments=("全科",)),
        facility(44, DESIGNATED, "上海和睦家泉口门诊部", "Shanghai United Family Quankou Clinic", "上海市长宁区泉口路8号", "No. 8 Quankou Road, Changning District", "长宁区", 31.2180, 121.4010, ownership=PRIVATE, departments=("全科", "儿科")),
        facility(45, DESIGNATED, "百汇医疗集团上海瑞康门诊部", "Parkway Health Medical Centers Gleneagles Medical and Surgical Center Tomorrow Square", "上海市南京西路389号明天广场裙房(4楼)", "4/F, Tomorrow Square, No. 389 West Nanjing Road", "黄浦区", 31.2330, 121.4690, ownership=PRIVATE, departments=("全科",)),
        facility(46, DESIGNATED, "百汇医疗集团上海瑞新医疗中心", "Parkway Health Medical Centers Shanghai Center", "上海市静安区南京西路1376号上海商城", "Shanghai Centre, No. 1376 West Nanjing Road, Jing'an District", "静安区", 31.2240, 121.4540, ownership=PRIVATE, departments=("全科",)),
        facility(47, DESIGNATED, "上海德达医院", "Deltahealth Hospital", "上海市青浦区徐乐路109号", "No. 109 Xule Road, Qingpu District", "青浦区", 31.1743, 121.2386, ownership=PRIVATE, category=Category.SPECIALIST, departments=("心内科",)),
        facility(48, DESIGNATED, "北京和睦家医院", "Beijing United Family Hospital", "北京市朝阳区将台路2号", "No. 2 Jiangtai Road, Chaoyang District", "朝阳区", 39.9740, 116.4900, ownership=PRIVATE, departments=("全科", "儿科"), city="北京"),
    ]  # fmt: skip


@pytest.fixture(scope="session")
def directory() -> Directory:
    return make_directory(
        corpus(),
        DISTRICTS,
        (Network(PLAN, "测试团体计划", "Test group plan", "tests"),),
        content_hash="test-corpus-1",
    )


@pytest.fixture(scope="session", autouse=True)
def _analysis() -> None:
    analysis.initialize()


def _engine(name: str, directory: Directory, tmp: Path) -> Iterator[SearchEngine]:
    engine = build_engine(name, directory, tmp / name)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def whoosh(
    directory: Directory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchEngine]:
    yield from _engine("whoosh", directory, tmp_path_factory.mktemp("whoosh"))


@pytest.fixture(scope="session")
def tantivy(
    directory: Directory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchEngine]:
    yield from _engine("tantivy", directory, tmp_path_factory.mktemp("tantivy"))


@pytest.fixture(scope="session", params=["whoosh", "tantivy"])
def engine(request: pytest.FixtureRequest) -> SearchEngine:
    return request.getfixturevalue(request.param)
