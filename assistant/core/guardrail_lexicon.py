"""What an attack says in other languages and in markup: patterns the input guardrail adds to its English rules.

Languages: the commonest phrasings of "ignore the previous instructions", "show your system prompt",
"from now on you are", "pretend to be", "another customer's balance" and "deposit without it being
reported" in Spanish, French, German, Italian, Portuguese, Dutch, Polish, Turkish, Vietnamese,
Indonesian, Chinese, Japanese, Korean, Russian, Arabic and Hindi (a message mostly in a script the
assistant does not serve is answered by `UNSERVED_SCRIPT` before these apply). Markup: chat-template
tokens, role fields of JSON/YAML chat logs, <system> tags, role labels opening a line or a comment.
Every pattern is compiled by RE2 (`rx`): linear time by construction.
"""

from __future__ import annotations

import re2

from assistant.core.regex import Regex


def rx(pattern: str, *, ignore_case: bool = True) -> Regex:
    """A rule compiled by RE2: linear in the input by construction (no backtracking), and 15-50 times faster
    than `re` on these alternations, which every message meets in several forms."""
    return re2.compile(("(?i)" if ignore_case else "") + pattern)


# Latin-script languages. "(?:...)" words are stems: "ignor" covers ignora, ignore, ignorez, ignoriere.
_IGNORE = (r"ignor|olvid|omit|descart|oubli|vergiss|vergessen|missacht|dimentic|esque[cç]|negeer|vergeet|zignoruj|"
           r"zapomnij|yok say|unut|b[ỏo] qua|qu[eê]n|abaikan|lupakan")
_RULES = (r"instruc|instruk|instru[cç]|istruzion|anweisung|regel|regla|r[eè]gle|regol|regra|consign|indicaci|directiv|"
          r"richtlijn|vorgabe|polityk|zasad|polecen|talimat|kural|h[ưu][ớo]ng d[ẫa]n|quy t[ắa]c|instruksi|aturan|"
          r"politi|prompt")
_PROMPT = (r"prompt (?:(?:del|de|du|di|do) )?(?:sistema|syst[eè]me)|(?:invite|message|instructions?|consignes) (?:du )?syst[eè]me|"
           r"systemprompt|system-prompt|systemanweisung|systemnachricht|systeeminstructie|systeemprompt|"
           r"instrucciones del sistema|instru[cç][õo]es (?:do|de) sistema|istruzioni di sistema|prompt systemowy|"
           r"sistem (?:istemi|talimat)|l[ờo]i nh[ắa]c h[ệe] th[ốo]ng|prompt sistem")
_FROM_NOW = (r"a partir de (?:ahora|maintenant|agora)|(?:à|a) partir d'?aujourd|desde ahora|ab jetzt|von nun an|"
             r"d'ora in (?:poi|avanti)|vanaf nu|od teraz|bundan sonra|t[ừu] b[âa]y gi[ờo]|mulai sekarang")
_YOU_ARE = (r"(?:ahora )?eres (?:ahora )?un|tu es (?:maintenant|d[ée]sormais)|vous [êe]tes (?:maintenant|d[ée]sormais)|"
            r"du bist (?:jetzt|nun|ab jetzt)|ora sei|agora (?:voc[êe] )?[ée]s|je bent nu|jeste[śs] teraz|"
            r"art[ıi]k sen|b[âa]y gi[ờo] b[ạa]n l[àa]|kamu sekarang")
_PRETEND = (r"finge|fingir|fingiendo|fingez|fingi|haz de cuenta|act[úu]a como|fais semblant|faites semblant|agis comme|tu so,? als|"
            r"stell dir vor,? du|fai finta|finja|doe alsof|udawaj|gibi davran|gi[ảa] v[ờo]|berpura-pura")
_NO_LIMITS = (r"sin (?:restricciones|reglas|l[íi]mites)|sans (?:aucune )?(?:restriction|r[èe]gle|limite)|"
              r"ohne (?:einschr[äa]nkung|regeln|grenzen)|senza (?:restrizion|regol|limit)|sem (?:restri[cç]|regras)|"
              r"zonder (?:beperking|regels)|bez (?:ogranicze|zasad)|k[ıi]s[ıi]tlamas[ıi]z|kh[ôo]ng (?:gi[ớo]i h[ạa]n|h[ạa]n ch[ếe])|"
              r"tanpa (?:batasan|aturan)")
_SHOW = (r"mu[ée]str|ens[ée][ñn]|revel|dime|affich|montr|donne|dis-moi|r[ée]v[èe]le|zeig|nenn|gib|sag mir|mostr|"
         r"dimmi|rivel|diga|mostre|laat zien|toon|poka[żz]|ujawnij|g[öo]ster|hi[ểe]n th[ịi]|cho t[ôo]i xem|tunjukkan")
_OTHERS = (r"(?:de|del) (?:mi|otro|otra) (?:vecin|client|herman|espos|amig|jef)|(?:de|du) (?:mon|ma) (?:voisin|ex|fr[èe]re|s[œo]eur|femme|mari|ami)|"
           r"d'un autre client|(?:meines|meiner) (?:nachbar|bruders|schwester|frau|mannes|freundes|chefs)|eines anderen kunden|"
           r"(?:del mio|della mia) (?:vicin|amic)|di un altro cliente|(?:do meu|da minha) (?:vizinh|irm|espos|amig)|de outro cliente|"
           r"van (?:mijn buurman|een andere klant)|mojego s[ąa]siada|innego klienta|kom[şs]umun|ba[şs]ka bir m[üu][şs]teri|"
           r"c[ủu]a (?:h[àa]ng x[óo]m|kh[áa]ch h[àa]ng kh[áa]c)|tetangga saya|nasabah lain")
_MONEY_DATA = (r"saldo|solde|kontostand|guthaben|transac|transakc|movimientos|umsätze|buchungen|opera[çc]|bakiye|"
               r"s[ốo] d[ưu]|giao d[ịi]ch|mutasi|tarjeta|carte|karte|carta|cart[ãa]o|kaart|karty|kart|th[ẻe]|kartu")
_REPORT = (r"sin que se (?:reporte|informe|declare)|sans (?:que ce soit|[êe]tre) (?:d[ée]clar|signal)|"
           r"ohne dass (?:es )?(?:die bank |es )?(?:\w+ )?(?:dem finanzamt |den beh[öo]rden )?(?:gemeldet|meldet)|"
           r"senza che (?:venga|sia) segnalat|sem que (?:seja )?(?:reportad|declarad|comunicad)|"
           r"zonder dat het (?:gemeld|gerapporteerd)|bez zg[łl]aszania|bildirilmeden|m[àa] kh[ôo]ng b[ịi] b[áa]o c[áa]o|"
           r"tanpa dilaporkan")

LATIN: list[tuple[str, Regex]] = [
    ("prompt_injection", rx(rf"\b(?:{_IGNORE})\w*\b.{{0,60}}\b(?:{_RULES})|\b(?:{_FROM_NOW})\b|\b(?:{_NO_LIMITS})"
                                    rf"|\b(?:{_RULES})\w*\b.{{0,40}}\b(?:yok say|g[öo]rmezden gel|unut|ignorieren|negeren)")),
    ("prompt_extraction", rx(rf"\b(?:{_PROMPT})|\b(?:{_SHOW})\w*\b.{{0,40}}\b(?:{_PROMPT})")),
    ("role_play", rx(rf"\b(?:{_YOU_ARE})\b|\b(?:{_PRETEND})\b")),
    ("other_customer_data", rx(rf"\b(?:{_MONEY_DATA})\w*\b.{{0,60}}\b(?:{_OTHERS})|\b(?:{_OTHERS}).{{0,60}}\b(?:{_MONEY_DATA})")),
    ("structuring", rx(rf"\b(?:{_REPORT})")),
]

# Scripts without word spaces or capitals: plain substrings, each bounded.
CJK_ETC: list[tuple[str, Regex]] = [
    ("prompt_injection", rx(
        r"(?:忽略|无视|無視|忘记|忘記|忘掉|不要理会|不要理會).{0,20}(?:指令|指示|说明|說明|规则|規則|提示|命令|设定|設定)"
        r"|从现在开始|從現在開始|(?:指示|命令|ルール).{0,10}(?:を)?(?:無視|忘れ)|これまでの指示|以前の指示"
        r"|(?:지시|명령|규칙|지침).{0,10}(?:무시|잊어)|(?:игнорир|проигнорир|забудь|забудьте|не обращай).{0,40}(?:инструкц|правил|указани)"
        r"|с этого момента|(?:تجاهل|انس).{0,30}(?:التعليمات|القواعد|الأوامر)|(?:निर्देश|नियम).{0,30}(?:अनदेखा|भूल)")),
    ("prompt_extraction", rx(
        r"系统提示|系統提示|系统消息|系統訊息|系统指令|系統指令|システムプロンプト|システムメッセージ|시스템 프롬프트|시스템 메시지"
        r"|системн\S{0,4} (?:промпт|инструкц|сообщени|подсказк)|(?:موجه|تعليمات|رسالة) النظام|सिस्टम प्रॉम्प्ट")),
    ("role_play", rx(r"你现在是|你現在是|扮演|假装|假裝|ふりをして|になりきって|인 척|척해|притворись|представь,? что ты|تظاهر")),
    ("other_customer_data", rx(
        r"(?:邻居|鄰居|别人|別人|其他客户|其他客戶|他人).{0,10}(?:余额|餘額|账户|賬戶|帳戶|交易|卡号|卡號)"
        r"|(?:隣人|他の顧客).{0,10}(?:残高|口座)|(?:이웃|다른 고객).{0,10}(?:잔액|계좌)|(?:соседа|другого клиента).{0,20}(?:баланс|счёт|счет)"
        r"|(?:баланс|сч[её]т).{0,30}(?:соседа|другого клиента)")),
    ("structuring", rx(r"(?:分几次|分幾次|分开存|分開存|拆分).{0,30}(?:存|报告|報告)|(?:不会|不會)被报告|(?:不会|不會)被報告")),
]

# Markup that only a chat log or a prompt template holds: role fields, template tokens, role tags and labels.
MARKUP = rx(
    r"<\|?\s{0,5}(?:im_start|im_end|system|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\s{0,5}\|?>"
    r"|\[/?INST\]|<</?SYS>>|(?:^|[^#])#{2,6}\s{0,5}(?:instruction|system|response)\s{0,5}(?::|\n|$)"
    r"|[\"']?role[\"']?\s{0,5}[:=]\s{0,5}[\"']?(?:system|developer|assistant|tool)\b"
    r"|<\s{0,5}/?\s{0,5}(?:system|developer|assistant|instructions?|admin)\s{0,5}>|```\s{0,5}(?:system|developer|instructions?)\b"
    r"|(?:^|\n|<!--|\[//\]: #|[\[({])\s{0,5}(?:system|developer|admin|assistant|ai|instructions?)\s{0,5}(?:[:>\])}]|-->)")


def unserved_script(text: str) -> bool:
    """Mostly letters of a script other than Latin (Chinese, Cyrillic, Arabic, ...): a message in a language
    this assistant has no catalogue, knowledge base or model for."""
    letters = [c for c in text[:1000] if c.isalpha()]
    if len(letters) < 2:
        return False
    latin = sum(c.isascii() or "\u00c0" <= c <= "\u024f" or "\u1e00" <= c <= "\u1eff" for c in letters)
    return latin < 0.5 * len(letters)
