"""The words of the multilingual phrase rules (``injection_rules.py``): override verbs,
instruction nouns, "you are", "without limits", system-prompt names and "show me" in the
Latin-script languages the rules read, as the detector sees them — ASCII, accents dropped.
Other scripts are ``injection_scripts.py``'s.
"""

from __future__ import annotations

# Override verbs and instruction nouns of other languages, as the detector sees them (ASCII only;
# English "ignore" and "instructions" are left to the English rules, which want more context).
ML_VERBS = (
    "ignora ignorez ignorar ignoriere ignorieren negeer olvida oublie oubliez vergiss vergessen dimentica esqueca "
    "esquece esquea zignoruj ignoruj zapomnij"
    # Swedish, Danish and Norwegian, Finnish, Indonesian and Malay, Swahili, Croatian and Serbian,
    # Hungarian ("glöm dina tidigare instruktioner", "abaikan semua instruksi sebelumnya").
    " glom glm glem unohda ohita abaikan lupakan puuza zanemari zaboravi felejtsd"
)
ML_VERB = "|".join(ML_VERBS.split())
ML_OBJECTS = (
    "instrucciones instrucoes instrues anweisungen instruktionen instructies istruzioni regeln reglas "
    "regole consignes regras regels vorgaben indicaciones directrices richtlinien einschrnkungen restricciones"
    " regles einschrankungen instrukcje instrukcji polecenia zasady ograniczenia instructions"
    " instruktioner instruksjoner instrukser regler anvisningar ohjeet ohjeesi ohjeita instruksi arahan aturan"
    " maagizo maelekezo upute uputstva pravila utasitasokat utastsokat"
)
ML_OBJ = "|".join(ML_OBJECTS.split())

# Jailbreak set-ups and system-prompt requests in those languages (accents dropped, see above).
ML_YOUS = "eres seras sei sarai bist sois tu jij je jestes agora voce du olet kamu anda"  # "you are", in each
ML_YOU = (
    r"eres|seras|sei|sarai|bist|sois|tu\s+(?:es|seras|e)|(?:jij|je)\s+bent|jestes|agora\s+(?:es|s|e)|voce\s+e"
    r"|du\s+(?:ar|r|er)|ar\s+du|olet|(?:kamu|anda)\s+(?:adalah|sekarang|menjadi)"  # Scandinavian, Finnish, Indonesian
)
ML_WITHOUT = "sin sem sans senza ohne zonder bez utan uden uten ilman tanpa"
ML_WITHOUT_ALT = "|".join(ML_WITHOUT.split())
ML_LIMITS = (
    "restricciones restricoes restries restrictions restrizioni einschrankungen einschrnkungen beperkingen "
    "ograniczen ogranicze filtros filtres filtri filter filters censura censure zensur limites limiti grenzen "
    "limits reglas regras regles regole regeln regels zasad begransningar begrnsningar begraensninger "
    "begrnsninger begrensninger regler rajoituksia rajoitteita batasan pembatasan aturan"
)
ML_LIMIT = "|".join(ML_LIMITS.split())
ML_SYSTEMS = (
    "sistema systeme systme systemprompt systemnachricht systemanweisungen systeemprompt systemowy systemowe "
    "internen interne internas internes interni internos verborgenen versteckten ocultas cachees nascoste"
)
ML_SYSTEM = (
    r"prompt\s+(?:del|de|do|di|du)\s+sistema|(?:message|prompt|consignes)\s+(?:du\s+)?syst(?:e)?me"
    r"|systemprompt|systemnachricht|systemanweisungen|systeemprompt|prompt\w*\s+systemow\w*"
    r"|(?:internen|interne|verborgenen|versteckten)\s+(?:anweisungen|instructies|instructions|regeln|vorgaben)"
    r"|instrucciones\s+(?:internas|ocultas)|instructions\s+(?:internes|cachees|cches)"
    r"|istruzioni\s+(?:interne|nascoste)|instrucoes\s+(?:internas|ocultas)|instrues\s+(?:internas|ocultas)"
)
ML_SHOWS = (
    "muestra muestrame muestre dime revela revelame ensena ensename escribe affiche affichez montre montrez donne "
    "donnez revele revelez ecris zeig zeige zeigst zeigen gib nenne verrate schreib mostra mostrami mostre "
    "mostrar dimmi rivela diga toon laat geef pokaz podaj ujawnij wypisz"
)
ML_SHOW = "|".join(ML_SHOWS.split())
