"""Language and country codes Odoo 19 knows (from its `res.lang.csv` / `res_country_data.xml`).

Settings validate the default language and country against these, so "klingon" or "España"
is refused with a Spanish 422 instead of failing later inside a tenant's creation.
"""

from __future__ import annotations

ODOO_LANGUAGES: frozenset[str] = frozenset(
    (
        "en_US am_ET ar_001 ar_SY az_AZ eu_ES be_BY bn_IN bs_BA bg_BG ca_ES zh_CN zh_HK zh_TW "
        "hr_HR cs_CZ da_DK nl_BE nl_NL en_AU en_CA en_GB en_IN en_NZ et_EE fi_FI fr_BE fr_CA "
        "fr_CH fr_FR gl_ES ka_GE de_DE de_CH el_GR gu_IN he_IL hi_IN hu_HU id_ID it_IT ja_JP "
        "kab_DZ km_KH ko_KP ko_KR lo_LA lv_LV lt_LT lb_LU mk_MK ml_IN mn_MN ms_MY my_MM nb_NO "
        "fa_IR pl_PL pt_AO pt_BR pt_PT ro_RO ru_RU sr@Cyrl sr@latin sk_SK sl_SI es_419 es_AR "
        "es_BO es_CL es_CO es_CR es_DO es_EC es_GT es_MX es_PA es_PE es_PY es_UY es_VE es_ES sw "
        "sv_SE th_TH tl_PH tr_TR uk_UA uz_UZ vi_VN sq_AL te_IN "
    ).split()
)

ISO_COUNTRIES: frozenset[str] = frozenset(
    (
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
        "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
        "DK DM DO DZ EC EE EG EH ER ES ET EU FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN "
        "GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE "
        "KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK "
        "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA "
        "PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK "
        "SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG "
        "UM US UY UZ VA VC VE VG VI VN VU WF WS XI XK YE YT ZA ZM ZW "
    ).split()
)
