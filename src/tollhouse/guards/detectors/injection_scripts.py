"""Prompt injection in scripts the ASCII phrasebook (``injection_rules``) cannot read.

Overrides, system-prompt requests and "an AI without restrictions" in Cyrillic, Chinese,
Japanese, Korean, Arabic, Hebrew, Devanagari, Persian and Thai, as compiled patterns the
detector runs on the lower-cased original text when it holds enough of those scripts.
"""

from __future__ import annotations

import re

# Overrides and prompt extraction in scripts the ASCII rules cannot read (Cyrillic, Chinese,
# Japanese, Korean, Arabic, Hebrew, Devanagari, Persian, Thai), matched on the lower-cased
# original text. Verb and object may come in either order (Japanese, Korean and Hindi put the
# verb last); the learned layer reads none of these words, so nothing here is damped by it.
# Imperatives only where a language has them ("игнорируй", not "игнорировать": "how do I ignore
# the eslint rules" is a question), and no "forget" where it reads as "I forgot" (Chinese 忘记,
# Japanese 忘れ, Korean 잊어); objects that are instructions and rules, not "settings" or "hints".
_FOREIGN_VERB = (
    "игнорируй|проигнорируй|игнорируйте|проигнорируйте|забудь|забудьте|не обращай|ігноруй|забудь|忽略|无视|無視|忽视"
    "|忽視|不要理会|不理会|무시|تجاهل|تتجاهل|انسَ|התעלם|תתעלם|תשכח|अनदेखा|नजरअंदाज|नज़रअंदाज़|भूल जा|نادیده|เพิกเฉย"
    "|忘记|忘掉|忘れて|잊어|잊고|انس"
)
_FOREIGN_OBJECT = (
    "инструкц|правил|указани|промпт|директив|інструкц|指令|指示|規則|规则|ルール|プロンプト|지시|명령|규칙|프롬프트|지침"
    "|التعليمات|تعليمات|القواعد|قواعد|الأوامر|التوجيهات|הוראות|כללים|הנחיות|निर्देश|नियम|دستورالعمل|دستورات|قوانین"
    "|คำสั่ง|กฎ"
)
_FOREIGN_SYSTEM = (
    r"системн\w*\s+(?:промпт|подсказк|инструкц|сообщени)|系统提示|系統提示|系统指令|系統指令|提示词|提示詞|系统设定"
    "|システムプロンプト|시스템\\s*프롬프트|موجه النظام|تعليمات النظام|הנחיות המערכת|פרומפט המערכת|सिस्टम प्रॉम्प्ट"
    "|सिस्टम निर्देश|دستورالعمل سیستم"
)
_FOREIGN_DISCLOSE = (
    "покажи|покажите|выведи|раскрой|расскажи|напиши|显示|告诉|告訴|输出|輸出|打印|透露|泄露|展示|列出|見せ|教え|表示して"
    "|出力|보여|알려|출력|اكشف|أظهر|اعرض|اطبع|הצג|תראה|חשוף|दिखा|बताओ|बताएं|نشان بده"
)
_NEAR = "[^.!?\\n\u3002\uff01\uff1f]{0,30}?"  # within a sentence: ASCII and CJK full stops end it
FOREIGN_OVERRIDE = re.compile(
    f"(?:{_FOREIGN_VERB}){_NEAR}(?:{_FOREIGN_OBJECT})|(?:{_FOREIGN_OBJECT}){_NEAR}(?:{_FOREIGN_VERB})"
)
FOREIGN_SYSTEM = re.compile(_FOREIGN_SYSTEM)
FOREIGN_DISCLOSE = re.compile(_FOREIGN_DISCLOSE)
# "You are now an AI without any restrictions": the model (or "AI") and "without limits" in one sentence.
_FOREIGN_YOU = (
    "你是|你现在|您是|あなたは|君は|너는|넌|당신은|\\bты\\b|\\bвы\\s+теперь|\\bأنت|\\bאתה|तुम|\\bتو\\b|คุณคือ|คุณเป็น"
    "|人工智能|\\bai\\b|\\bии\\b|인공지능|ذكاء اصطناعي|בינה מלאכותית|एआई"
)
_FOREIGN_UNLIMITED = (
    "没有任何限制|没有限制|不受任何限制|不受限制|无限制|沒有任何限制|沒有限制|不受限制|無限制|無制限|制限のない|制限がない"
    "|制限なし|제한이\\s*없는|제한\\s*없는|제한없는|без\\s+(?:каких-либо\\s+)?(?:ограничений|правил|фильтров|цензуры)"
    "|بلا\\s+قيود|بدون\\s+قيود|دون\\s+قيود|ללא\\s+הגבלות|בלי\\s+הגבלות|बिना\\s+(?:किसी\\s+)?प्रतिबंध|بدون\\s+محدودیت"
    "|ไม่มีข้อจำกัด"
)
FOREIGN_UNRESTRICTED = re.compile(
    f"(?:{_FOREIGN_YOU}){_NEAR}(?:{_FOREIGN_UNLIMITED})|(?:{_FOREIGN_UNLIMITED}){_NEAR}(?:{_FOREIGN_YOU})"
)
# An override; a system prompt named; named with a disclosure verb; an AI "without restrictions".
FOREIGN_WEIGHTS = (0.9, 0.45, 0.8, 0.7)
