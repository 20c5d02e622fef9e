"""The crisis safety net: phrase classes matched on normalised text, no network, no model.

Each class is a data table of phrases over the output of `nlu.normalise.normalise`
(lower case, single spaces, slang folded: "pengen" -> "ingin", "gak" -> "tidak",
"aku"/"kulo" -> "saya", "wae"/"aja" -> "saja", "urip" -> "hidup", "pejah" -> "mati").

A phrase is a regular expression matched on word boundaries within one sentence; `<NAME>`
is a shared slot. Its anchors say where a match can start: at a word of the first group
(or up to `lead` words before one), and only in a message that also holds a word of every
later group ("a b + c" is (a or b) and c). Matching is tried only at those words, which
keeps a 4000-character message well under a millisecond.

A guard vetoes ordinary readings: "inanimate" ("hp saya mau mati"), "legal" (a will in an
inheritance question). Goodbye cues marked "weak" ("titip anak", "saya pamit") only count
when two different ones come close together.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from core.triage import CrisisHit
from nlu.normalise import normalise


class Phrase(NamedTuple):
    pattern: str
    anchors: str  # "first words + other + other"; <NAME> stands for every word of WORDS[NAME]
    guard: str | None = None  # "inanimate", "legal" or "weak"
    lead: int = 0  # words a match may start before its first-group anchor


def _split(words: str) -> tuple[str, ...]:
    return tuple(words.split())


# Word lists used both as slots in patterns and as anchors.
WORDS: dict[str, tuple[str, ...]] = {
    "HIT": _split(
        "memukul memukuli mukul mukulin mukuli nggebuki ngegebukin nggebug nggebugi menampar "
        "nampar nampari menendang nendang nendangi mencekik nyekik menjambak njambak menganiaya "
        "menyiksa nyiksa menghajar ngehajar menonjok nonjok meninju ninju njotosi menjotos "
        "membacok menusuk nusuk membanting mbanting banting mengurung ngurung menyekap "
        "nyekap mengunci ngunci menyundut nyundut menggampar nggampar menempeleng nempeleng "
        "ngantemi memperkosa melecehkan mencabuli ngeplak ngepruk nabok menabok mancal "
        "nyepak"
    ),
    "HURT": _split(
        "dipukul dipukuli dipukulin ditampar ditampari ditendang ditendangi dicekik dijambak "
        "dianiaya disiksa dihajar dibacok ditusuk ditonjok dijotos ditinju digebuki digebukin "
        "digebug digebugi dipenthung dipentung dikeplak dikepruk diantemi dihantam dibanting "
        "disundut ditempeleng digampar disabet dibekap disekap dikurung diperkosa dilecehkan "
        "dicabuli dikeroyok ditabok dipancal disepak dipateni diraba digerayangi"
    ),
    "KILL": _split(
        "membunuh bunuh menghabisi habisi mencelakai celakai mencelakakan menyakiti nyakiti "
        "nyakitin menusuk nusuk membacok bacok meracuni racuni mateni pateni mencekik "
        "nyekik menggorok gorok menembak tembak tusuk ngracun ngracuni racun melukai nyilakani "
        "nyelakani nyelakain nyelakai celakain banting membanting"
    ),
    "WANT": _split("ingin mau arep pen niat berniat siap kepikiran"),
    "BODYPART": _split("tangan lengan nadi kulit paha kaki pergelangan tubuh badan perut leher"),
}

SLOTS: dict[str, str] = {
    **{name: "(?:" + "|".join(words) + ")" for name, words in WORDS.items()},
    # up to four small words between a wish and its object: "ingin rasanya cepat mati"
    "FILL": (
        r"(?:(?:sekali|banget|rasanya|rasane|rasa|saja|cepat|cepet|segera|sih|deh|lah|ya|"
        r"sudah|pokoknya|pokoke|tuh|itu|ini|mending|lebih|baik|untuk|buat|jadi|saya|kayaknya|"
        r"kayak|beneran|benar|bener|juga|biar|supaya|agar|terus|lagi|tenan|sekarang|hari|"
        r"malam|besok|secepatnya|dong|kok|lho|mbok|bisa|tiba|mau|ingin|aslinya|kadang) ){0,4}"
    ),
    "ANY1": r"(?:\w+ )?",
    "ANY2": r"(?:\w+ ){0,2}",
    "ANY3": r"(?:\w+ ){0,3}",
    "ANY4": r"(?:\w+ ){0,4}",
    "NOTNEG": r"(?<!tidak )",
    # "mati" as dying, not a power cut, a dead battery or an idiom
    "MATI": (
        r"mati(?! (?:lampu|listrik|gaya|kutu|suri|rasa|angin|total|mesin|mendadak|kaku|"
        r"kelaparan|kepanasan|kedinginan|kebosanan|bosan|ketawa|ketakutan|penasaran|kaget)\b)"
    ),
    "BODY": r"(?:<BODYPART>)(?:ku|nya| saya| sendiri)?",
    "PERSON": (
        r"(?:saya|kami|kita|dia|mereka|kamu|kau|kalian|(?:istri|suami|anak|ibu|bapak|ayah|mama|tangga|"
        r"papa|mamah|adik|kakak|mertua|pacar|mantan|bojo|simbok|nenek|kakek|cucu|bayi|keluarga|"
        r"teman|tetangga|bos|atasan|rekan|orang|wong|selingkuhan|pelakor|kowe|koe|dheweke|mas|"
        r"mbak|pak|bu|keponakan|ponakan)(?:ku|nya|ne|mu|e)?(?: anak(?:ku|nya)?)?(?: saya)?)"
    ),
    # who is hurt at home: not "teman" or "orang", as in "anak saya suka memukul teman"
    "VICTIM": (
        r"(?:saya|kami|kita|dia|kamu|(?:istri|suami|anak|ibu|bapak|ayah|mama|papa|mamah|adik|"
        r"kakak|mertua|bojo|simbok|nenek|kakek|cucu|bayi|kowe|koe|dheweke|mbak|mas)"
        r"(?:ku|nya|ne|mu|e)?(?: anak(?:ku|nya)?)?(?: saya)?)"
    ),
    "POISON": (
        r"(?:racun|baygon|pestisida|insektisida|potas|potasium|portas|sianida|apotas|"
        r"obat nyamuk|obat serangga|obat tikus|racun tikus|cairan pembersih|pembersih lantai|"
        r"karbol|wipol|porstex|soklin|bayclin|cuka para|air aki|air keras|thinner|tiner|"
        r"obat rumput|gramoxone|paraquat|furadan)"
    ),
}
BODY_WORDS = " ".join(f"{part} {part}ku {part}nya" for part in WORDS["BODYPART"])
POISON_STARTS = (
    "racun baygon pestisida insektisida potas potasium portas sianida apotas obat cairan "
    "pembersih karbol wipol porstex soklin bayclin cuka air thinner tiner gramoxone paraquat "
    "furadan"
)
POISON_WORDS = (
    "racun baygon pestisida insektisida potas potasium portas sianida apotas nyamuk serangga "
    "tikus pembersih karbol wipol porstex soklin bayclin para aki keras thinner tiner rumput "
    "gramoxone paraquat furadan"
)
DRINK = (
    "minum meminum diminum menenggak nenggak tenggak menelan nelan nelen telan ditelan ngombe "
    "diombe"
)
PREPARE = "siapkan kusiapkan siapin menyiapkan sediakan menyediakan nyiapin nyiapke"
END = "mengakhiri mengakhirin akhiri akhirin ngakhiri ngakhirin menyudahi sudahi nyudahi"

# Thoughts of or wishes for one's own death.
SUICIDE: tuple[Phrase, ...] = (
    Phrase(
        r"(?:mem)?bu?n[uo]?h ?di?ri(?:ku)?",
        "bunuh bnuh bunh bnh bunoh bnoh membunuh membunoh bunuhdiri bunuhdri bnhdiri bunohdiri",
    ),
    Phrase(r"bunuh awak(?:e|ku)?", "bunuh + awak awake awakku"),
    Phrase(r"n(?:g|ge)lalu", "nglalu ngelalu"),
    Phrase(r"<NOTNEG><WANT> <FILL><MATI>", "<WANT> + mati", "inanimate"),
    Phrase(r"<MATI> saja", "mati", "inanimate"),
    Phrase(
        r"(?:lebih baik|lebih enak|mending|sebaiknya|luwih becik|luwih apik) <FILL><MATI>",
        "lebih mending sebaiknya luwih + mati",
        "inanimate",
    ),
    Phrase(
        r"(?:" + END.replace(" ", "|") + r") <ANY2>(?:hidup|nyawa)", END + " + hidup hidupku nyawa"
    ),
    Phrase(r"(?:" + END.replace(" ", "|") + r") (?:semuanya|semua ini|segalanya)(?! dengan)", END),
    Phrase(r"(?:menghabisi|habisi) (?:nyawa|diri) ?(?:saya|sendiri|ku)", "menghabisi habisi"),
    Phrase(
        r"tidak (?:ingin|mau|kuat|sanggup|betah|pantas|layak) <FILL>hidup"
        r"(?: (?:lagi|di dunia|didunia|selamanya)|(?= \.)|$)",
        "tidak + hidup",
    ),
    Phrase(r"tidak (?:ingin|mau) (?:bangun (?:lagi|besok)|ada di dunia)", "tidak + bangun dunia"),
    Phrase(
        r"(?:ingin|mau) <FILL>(?:menghilang|hilang|ilang|ngilang|pergi) "
        r"<FILL>(?:selamanya|dari dunia)",
        "ingin mau + selamanya dunia",
    ),
    Phrase(r"(?:ingin|mau) <FILL>tidur (?:untuk )?selamanya", "ingin mau + selamanya"),
    Phrase(
        r"(?:tenang|istirahat|beristirahat|pergi) (?:untuk )?selamanya",
        "tenang istirahat beristirahat pergi",
    ),
    Phrase(r"(?:menyerah|nyerah) (?:dengan |sama |pada |dalam )?hidup", "menyerah nyerah + hidup"),
    Phrase(
        r"(?:peduli|sedih|kehilangan|menangis|menangisi|sadar) (?:kalau|jika|bila|seandainya|andai)"
        r" saya (?:mati|tidak ada)",
        "peduli sedih kehilangan menangis menangisi sadar + mati ada",
    ),
    Phrase(
        r"(?:ingin|mau) <FILL>(?:semua|semuanya|semua ini|hidup saya|hidupku|hidup ini) "
        r"(?:berakhir|usai|tamat)(?! dengan)",
        "ingin mau + berakhir usai tamat",
    ),
    Phrase(r"(?:mengajak|ngajak|ajak) <ANY2><MATI>", "mengajak ngajak ajak + mati"),
    Phrase(r"tidur <ANY2>tidak (?:usah )?bangun (?:lagi|selamanya)", "tidur + bangun"),
    Phrase(
        r"(?:pergi|menghilang|hilang|ilang|ngilang) (?:saja )?(?:dari dunia(?: ini)?(?! maya)|"
        r"untuk selamanya)",
        "pergi menghilang hilang ilang ngilang + dunia selamanya",
    ),
    Phrase(
        r"(?:capek|lelah|bosan|bosen|muak|kesel|letih|penat) <FILL>(?:dengan |sama |menjalani )?"
        r"hidup"
        r"(?! (?:di|sebagai|bersama|serumah|dengan|sama|berdua|hemat|sederhana|sehat|mandiri|"
        r"terpisah|jauh|pas|ngontrak|numpang|susah|monoton)\b)",
        "capek lelah bosan bosen muak kesel letih penat + hidup",
    ),
    Phrase(
        r"hidup(?:ku|nya)? <ANY2>tidak (?:ada )?(?:artinya|gunanya|berarti|berguna)",
        "hidup hidupku hidupnya + artinya gunanya berarti berguna",
    ),
    Phrase(
        r"tidak (?:ada|punya) (?:gunanya|artinya|alasan)(?: lagi)? (?:untuk |buat )?(?:saya )?"
        r"(?:tetap |terus )?hidup",
        "tidak + gunanya artinya alasan + hidup",
    ),
    Phrase(
        r"(?:ingin|mau) (?:menyusul|nyusul) (?:almarhum|almarhumah|alm|swargi|mendiang|"
        r"ke alam baka|ke surga)",
        "ingin mau + menyusul nyusul",
    ),
    Phrase(
        r"(?:ingin|mau|minta|semoga) <FILL>(?:cepat )?(?:dipanggil|diambil|dijemput) "
        r"(?:tuhan|allah|gusti|yang maha kuasa)",
        "ingin mau minta semoga + dipanggil diambil dijemput",
    ),
    Phrase(
        r"(?:dunia|semua|semuanya|keluarga|kalian|mereka|anak anak|istri|suami|orang orang)"
        r"(?: saya| ini| kita| orang)? (?:akan )?(?:lebih baik|lebih bahagia|bahagia) tanpa "
        r"(?:saya|adanya saya|kehadiran saya)",
        "dunia semua semuanya keluarga kalian mereka anak istri suami orang + tanpa",
    ),
    Phrase(
        r"(?:andai|seandainya|mending|lebih baik) saya tidak (?:pernah )?"
        r"(?:lahir|dilahirkan|ada di dunia)",
        "andai seandainya mending lebih + lahir dilahirkan dunia",
    ),
    Phrase(
        r"(?:lebih baik|mending) (?:saya )?(?:tidak ada|menghilang|tidak pernah ada)",
        "lebih mending + ada menghilang",
    ),
    Phrase(r"suicid(?:e|al)|unalive", "suicide suicidal unalive"),
    Phrase(r"kill?(?:ing)? my ?self|kill me", "kill kil killing kiling"),
    Phrase(r"take my (?:own )?life|end(?:ing)? (?:my life|it all)", "take end ending + life all"),
    Phrase(
        r"(?:want|wanna|going|gonna|ready|deserve) (?:to )?die|better off dead",
        "want wanna going gonna ready deserve better + die dead",
    ),
    Phrase(
        r"(?:nobody|no one|wouldnt|would not|miss me|better off) <ANY3>(?:if|when) i "
        r"(?:die|died|was gone|were gone|am gone)",
        "nobody no wouldnt would miss better + die died gone",
    ),
    Phrase(
        r"(?:dont|do not|no longer) want to (?:live|be alive|wake up)|no reason to live",
        "dont do no + live alive wake",
    ),
    Phrase(
        r"(?:dont|do not|cant|cannot) see (?:the|any) point (?:of|in) (?:living|life|going on)|"
        r"no point (?:in )?(?:living|going on)|tired of living|(?:cant|cannot) go on",
        "dont do cant cannot no tired",
    ),
)

# Hurting oneself: cutting, burning, hitting one's own body.
SELF_HARM: tuple[Phrase, ...] = (
    Phrase(
        r"(?:sayat|sayatan|menyayat|nyayat|disayat|gores|menggores|nggores|ngegores|nyilet|"
        r"nyiletin|menyilet|silet|iris|ngiris|mengiris) <ANY2><BODY>",
        "sayat sayatan menyayat nyayat disayat gores menggores nggores ngegores nyilet nyiletin"
        " menyilet silet iris ngiris mengiris",
    ),
    Phrase(
        r"<BODY> <ANY3>(?:sayatan|bekas silet|luka sayat)", BODY_WORDS + " + sayatan silet sayat"
    ),
    Phrase(r"nyilet|nyeilet|menyilet|nyiletin", "nyilet nyeilet menyilet nyiletin"),
    Phrase(r"(?:iris|potong|sayat|gores|silet) nadi", "iris potong sayat gores silet + nadi"),
    Phrase(
        r"(?:melukai|ngelukai|ngelukain|lukain|lukai|melukain|menyakiti|nyakiti|nyakitin|nglarani|"
        r"ngelarani|"
        r"menyiksa|nyiksa|menghukum|memukul|memukuli|mukul|mukulin) (?:diri|diriku|awak|awake|"
        r"awakku)",
        "melukai ngelukai ngelukain lukain lukai melukain menyakiti nyakiti nyakitin nglarani"
        " ngelarani"
        " menyiksa nyiksa menghukum memukul memukuli mukul mukulin + diri diriku awak awake awakku",
    ),
    Phrase(
        r"(?:melukai|menyakiti|nyakitin|menyayat|mencakar|menusuk|nusuk|menyundut|nyundut|"
        r"membakar|bakar) <BODY>",
        "melukai menyakiti nyakitin menyayat mencakar menusuk nusuk menyundut nyundut membakar"
        " bakar",
    ),
    Phrase(
        r"(?:memukul|mukul|mukulin|memukuli|jambak|menjambak|njambak|cakar|mencakar|gigit|"
        r"menggigit|cubit|mencubit|tampar|menampar|membakar|bakar|sundut|menyundut|cabut|"
        r"mencabut|mencabuti) (?:<BODYPART>|rambut|kepala|muka|wajah|dada)(?:ku)?"
        r"(?: saya)? sendiri",
        "memukul mukul mukulin memukuli jambak menjambak njambak cakar mencakar gigit menggigit"
        " cubit mencubit tampar menampar membakar bakar sundut menyundut cabut mencabut mencabuti"
        " + sendiri",
    ),
    Phrase(
        r"(?:burn|burning|burned|burnt|scratch|scratching|cut|cutting|hit|hitting) my "
        r"(?:self|skin|arms?|wrists?|legs?|thighs?|body)",
        "burn burning burned burnt scratch scratching cut cutting hit hitting + my",
    ),
    Phrase(
        r"(?:benturkan|membenturkan|benturin|jedotin|jedotkan|menjedotkan|membentur) "
        r"kepala(?:ku)?",
        "benturkan membenturkan benturin jedotin jedotkan menjedotkan membentur",
    ),
    Phrase(r"self ?harm(?:ing)?|self injury|cutting", "self selfharm cutting"),
    Phrase(
        r"cut(?:ting)? (?:my ?self|my wrists?|my arms?)|hurt(?:ing)? my ?self",
        "cut cutting hurt hurting",
    ),
)

# Means and methods: hanging, poison, jumping, overdose, sharp objects.
METHOD: tuple[Phrase, ...] = (
    Phrase(
        r"(?:meng|ng)?gantung ?(?:diri|leher|awak(?:e|ku)?)",
        "gantung menggantung nggantung gantungdiri",
    ),
    Phrase(r"ngendhat|ngendat", "ngendhat ngendat"),
    Phrase(
        r"(?:" + PREPARE.replace(" ", "|") + r"|ikatkan|mengikat|menaruh|taruh|pasang|memasang) "
        r"<ANY2>tali(?! (?:sepatu|"
        r"rafia|jemuran|tas|pramuka|kur|pusar|plastik|layangan|kolor|silaturahmi|kasih|"
        r"persaudaraan)\b)",
        PREPARE + " ikatkan mengikat menaruh taruh pasang memasang + tali",
    ),
    Phrase(
        r"tali <ANY2>(?:di |ke )?(?:kamar|kusen|plafon|atap|usuk|blandar|kipas angin|leher)",
        "tali",
    ),
    Phrase(
        r"(?:" + DRINK.replace(" ", "|") + r"|coba|mencoba|nyoba) <ANY2><POISON>",
        DRINK + " coba mencoba nyoba + " + POISON_WORDS,
    ),
    Phrase(
        r"<POISON> <ANY2>(?:diminum|ditelan|saya minum|kuminum|saya telan)",
        POISON_STARTS + " + diminum ditelan minum kuminum telan",
    ),
    Phrase(
        r"(?:" + PREPARE.replace(" ", "|") + r"|sudah (?:ada|beli|membeli)) <ANY2>"
        r"(?:racun|baygon|potas|sianida|apotas)",
        PREPARE + " sudah + racun baygon potas sianida apotas",
    ),
    Phrase(
        r"racun tikus(?! (?:di|untuk|buat|ke) (?:gudang|sawah|kebun|dapur|rumah|lumbung|plafon|"
        r"kantor|toko|warung|tikus)\b)",
        "racun + tikus",
    ),
    Phrase(
        r"(?:loncat|lompat|meloncat|melompat|terjun|njegur|nyebur|mencebur|njlungup) <ANY3>"
        r"(?:dari |ke )?(?:atas )?(?:jembatan|gedung|lantai \w+|atap|tebing|jurang|menara|tower|"
        r"rooftop|flyover|sungai|kali|waduk|sumur|rel)",
        "loncat lompat meloncat melompat terjun njegur nyebur mencebur njlungup + jembatan gedung"
        " lantai atap tebing jurang menara tower rooftop flyover sungai kali waduk sumur rel",
    ),
    Phrase(
        r"(?:menabrakkan|menabrakan|nabrakin|nabrakke|menceburkan|menjatuhkan|melemparkan|"
        r"menerjunkan|menenggelamkan|tenggelamkan|membakar|bakar|tusuk|menusuk) diri",
        "menabrakkan menabrakan nabrakin nabrakke menceburkan menjatuhkan melemparkan"
        " menerjunkan menenggelamkan tenggelamkan membakar bakar tusuk menusuk + diri",
    ),
    Phrase(
        r"(?:tidur|tiduran|berbaring|rebahan) di (?:atas )?rel",
        "tidur tiduran berbaring rebahan + rel",
    ),
    Phrase(
        r"overdosis|overdos(?:e|ing)|dosis (?:yang )?(?:mematikan|berlebih)|lethal dose|"
        r"(?:melebihi|melewati) dosis",
        "overdosis overdose overdosing dosis lethal melebihi melewati",
    ),
    Phrase(
        r"obat tidur (?:banyak|sebanyak|berlebihan)|(?:mengumpulkan|ngumpulin|menimbun|nimbun|"
        r"menyetok|nyetok) <ANY2>(?:obat|pil|racun)",
        "obat mengumpulkan ngumpulin menimbun nimbun menyetok nyetok",
    ),
    Phrase(
        r"(?:berdiri|duduk) di (?:atap|(?:tepi|pinggir|ujung|atas) (?:gedung|jembatan|tebing|"
        r"jurang|menara|rooftop|tower|atap))",
        "berdiri duduk + atap tepi pinggir ujung",
    ),
    Phrase(
        r"(?:jembatan|gedung|atap|tebing|menara|tower|rooftop|flyover) <ANY3>(?:ingin|mau|arep|"
        r"siap|hampir|nekat) (?:loncat|lompat|terjun|melompat|meloncat|njegur|nyebur)",
        "jembatan gedung atap tebing menara tower rooftop flyover + loncat lompat terjun melompat"
        " meloncat njegur nyebur",
    ),
    Phrase(
        r"obat(?: tidur)? <ANY2>(?:sekaligus|segenggam|sestrip|satu strip|sebotol|satu botol|"
        r"berlebihan|puluhan butir|sampai habis)",
        "obat + sekaligus segenggam sestrip strip sebotol botol berlebihan puluhan habis",
    ),
    Phrase(
        r"(?:minum|menelan|telan|nelen|menenggak) obat <ANY1>banyak (?:banget |sekali )?"
        r"(?:biar|supaya|agar|sampai|sekaligus)",
        "minum menelan telan nelen menenggak + obat + banyak",
    ),
    Phrase(
        r"(?:minum|menelan|telan|nelen|menenggak) (?:semua|segenggam|sebotol|puluhan) "
        r"(?:obat|pil|tablet|butir)",
        "minum menelan telan nelen menenggak + obat pil tablet butir",
    ),
    Phrase(
        r"cara <ANY2>(?:<MATI>|bunuh diri|mengakhiri hidup) <ANY2>(?:tanpa (?:rasa )?sakit|"
        r"paling cepat|cepat|instan|tidak sakit)",
        "cara + mati diri hidup",
    ),
    Phrase(r"pisau <ANY2>(?:ke |di )?(?:leher|nadi)", "pisau + leher nadi"),
    Phrase(r"hang(?:ing)? my ?self|(?:slit|cut) my wrists?", "hang hanging slit cut"),
    Phrase(r"jump(?:ing)? (?:off|from) (?:a |the )?(?:bridge|building|roof)", "jump jumping"),
    Phrase(
        r"(?:take|took|swallow|swallowed) (?:all|a lot of|many|a bunch of) (?:my )?"
        r"(?:pills|tablets|meds)",
        "take took swallow swallowed + pills tablets meds",
    ),
)

# Farewell notes.
GOODBYE: tuple[Phrase, ...] = (
    Phrase(
        r"surat wasiat|wasiat terakhir|surat (?:perpisahan|terakhir) (?:saya|untuk)",
        "surat wasiat + wasiat perpisahan terakhir",
        "legal",
    ),
    Phrase(r"ini (?:adalah )?(?:pesan|chat|kata kata|tulisan) terakhir", "ini + terakhir"),
    Phrase(
        r"pesan terakhir (?:saya |ku )?(?:untuk|buat) (?:kalian|semua|keluarga|anak|istri|suami|"
        r"kamu|ibu|bapak)",
        "pesan + terakhir",
    ),
    Phrase(
        r"selamat tinggal (?:semua|semuanya|selamanya|dunia|kalian|untuk selamanya)",
        "selamat + tinggal",
    ),
    Phrase(r"pamit (?:untuk )?selamanya|pamit dari dunia", "pamit"),
    Phrase(
        r"sampai (?:jumpa|ketemu) (?:lagi )?di (?:surga|akhirat|kehidupan (?:lain|berikutnya|"
        r"selanjutnya)|alam lain)",
        "sampai + jumpa ketemu",
    ),
    Phrase(
        r"goodbye (?:forever|everyone|world|cruel world)|my (?:last|final) "
        r"(?:message|goodbye|words)",
        "goodbye my + forever everyone world last final",
    ),
    Phrase(
        r"maafkan (?:saya|kulo)(?: atas| untuk)? (?:selama ini|semuanya|segalanya|"
        r"semua kesalahan)",
        "maafkan",
        "weak",
    ),
    Phrase(r"maaf <ANY3>(?:menyusahkan|merepotkan|jadi beban|menjadi beban)", "maaf", "weak"),
    Phrase(r"titip (?:anak anak|anak|anakku|istri|suami|ibu|bojo)", "titip", "weak"),
    Phrase(r"maaf(?:kan)? (?:ya )?(?:semua|semuanya|kalian)", "maaf maafkan", "weak"),
    Phrase(
        r"(?:nulis|menulis|tulis|bikin|membuat|siapkan|menyiapkan) (?:surat )?wasiat",
        "nulis menulis tulis bikin membuat siapkan menyiapkan + wasiat",
        "legal",
    ),
    Phrase(
        r"(?:kalau|jika|bila|seandainya|setelah) saya (?:sudah )?tidak ada(?: lagi)?"
        r"(?! (?:di|uang|waktu|kabar|sinyal|pulsa|kuota|kerjaan)\b)",
        "kalau jika bila seandainya setelah + ada",
        "weak",
    ),
    Phrase(
        r"(?:menulis|nulis|tulis|menuliskan|bikin|membuat) surat (?:untuk|buat) "
        r"(?:anak|istri|suami|keluarga|kalian|ibu|bapak|orang tua)",
        "menulis nulis tulis menuliskan bikin membuat + surat",
        "weak",
    ),
    Phrase(r"jaga (?:anak anak|anakku|anak saya|ibu)", "jaga", "weak"),
    Phrase(
        r"terima kasih (?:untuk|atas) (?:semuanya|segalanya|selama ini)",
        "terima + semuanya segalanya selama",
        "weak",
    ),
    Phrase(
        r"saya pamit(?! (?:pulang|dulu|duluan|ke|kerja|rapat|sebentar|istirahat|tidur|izin|cuti|"
        r"mundur|off)\b)",
        "pamit",
        "weak",
        lead=1,
    ),
    Phrase(r"selamat tinggal", "selamat + tinggal", "weak"),
    Phrase(r"ini yang terakhir", "terakhir", "weak", lead=2),
    Phrase(r"jangan cari saya", "jangan + cari", "weak"),
    Phrase(
        r"tidak akan (?:ketemu|bertemu|melihat saya) lagi", "ketemu bertemu melihat", "weak", lead=2
    ),
)

# Violence suffered: beating, choking, threats with weapons, sexual violence, confinement.
VIOLENCE: tuple[Phrase, ...] = (
    Phrase(
        r"<HURT>(?! (?:rata|mundur|jarum|deadline|tugas|kerjaan|pekerjaan|cicilan|utang|hutang|"
        r"inflasi|kenyataan|waktu|keluar|dari (?:grup|tim|jabatan|proyek|kantor))\b)",
        "<HURT>",
    ),
    Phrase(
        r"kdrt|kekerasan (?:dalam rumah tangga|fisik|seksual)|pemerkosaan|perkosaan|"
        r"pelecehan seksual|pencabulan|penganiayaan",
        "kdrt kekerasan pemerkosaan perkosaan pelecehan pencabulan penganiayaan",
    ),
    Phrase(r"<HIT> <ANY1><VICTIM>", "<HIT>"),
    Phrase(r"<HIT>(?:ku|in saya)", " ".join(f"{v}ku {v}in" for v in WORDS["HIT"])),
    Phrase(
        r"(?:sering|suka|selalu|pernah|sampai|mulai|kerap|tega|berani) <HIT>(?! (?:teman|"
        r"temannya|temanku|orang|rekan|tetangga|bola|meja|pintu|tembok|kentongan|drum|gong)\b)",
        "sering suka selalu pernah sampai mulai kerap tega berani + <HIT>",
    ),
    Phrase(r"(?:main|bermain) (?:tangan|fisik)|kasar secara fisik", "main bermain kasar"),
    Phrase(
        r"(?:lebam|memar|babak belur|benjol) <ANY3>(?:akibat|karena|gara gara|oleh|dari|sama|"
        r"dipukul|dihajar|ditendang) (?:suami|istri|bapak|ayah|ibu|mertua|pacar|mantan|bojo)",
        "lebam memar babak benjol",
    ),
    Phrase(
        r"(?:didorong|mendorong|dorong|nyurung|disurung) <ANY2>(?:dari tangga|sampai jatuh|"
        r"hingga jatuh|sampai terjatuh|ke tembok|ke dinding|ke lantai)",
        "didorong mendorong dorong nyurung disurung",
    ),
    Phrase(
        r"(?:mengamuk|ngamuk) <ANY4>(?:golok|parang|pisau|celurit|clurit|arit|senjata|pistol|"
        r"samurai)",
        "mengamuk ngamuk",
    ),
    Phrase(
        r"dipaksa (?:berhubungan|melayani|ngeseks|bersetubuh|tidur dengan)",
        "dipaksa + berhubungan melayani ngeseks bersetubuh tidur",
    ),
    Phrase(
        r"(?:dilempar|dilempari|dibalang) <ANY1>(?:piring|gelas|barang|kursi|batu|pisau|asbak|"
        r"helm|botol|panci)|(?:melempar|nglempar) <ANY2>ke (?:saya|arah saya|muka saya|"
        r"kepala saya|istri|suami|anak|ibu)|melempari <PERSON>",
        "dilempar dilempari dibalang melempar nglempar melempari",
    ),
    Phrase(
        r"(?:(?:menyeret|nyeret) <ANY1><PERSON>|diseret)(?!(?: \w+){0,3} (?:ke (?:pengadilan|"
        r"meja hijau|ranah hukum|jalur hukum|polisi|penjara|kpk)|dalam kasus|kasus)\b)",
        "menyeret nyeret diseret",
    ),
    Phrase(
        r"(?:membunuh|bunuh|menghabisi|mencelakai|menusuk|membacok|meracuni|mencekik) "
        r"(?:saya|kami|anak anak saya|anak saya|keluarga saya|istri saya|suami saya)",
        "membunuh bunuh menghabisi mencelakai menusuk membacok meracuni mencekik",
    ),
    Phrase(
        r"(?:dikunci|dikurung|disekap) <ANY2>(?:di |dalam )?(?:kamar|gudang|kamar mandi)",
        "dikunci dikurung disekap",
    ),
    Phrase(
        r"(?:diancam|mengancam|ngancam|ngancem|diancem|ancam) <ANY4>(?:dibunuh|bunuh|membunuh|"
        r"dipateni|mateni|pateni|dihabisi|menghabisi|pisau|parang|golok|celurit|clurit|arit|sabit|"
        r"ngobong|mbakar|diobong|"
        r"senjata|pistol|bacok|dibacok|membacok|dibakar|membakar|disiram|menyiram|dipukul|memukul|"
        r"ditusuk|menusuk|mencelakai|dicelakai|diculik|menculik|menyakiti|disakiti|bakar)",
        "diancam mengancam ngancam ngancem diancem ancam",
    ),
    Phrase(
        r"(?:membakar|bakar|dibakar|mbakar|ngobong|diobong) (?:rumah|kamar|mobil saya|"
        r"motor saya|saya|anak)",
        "membakar bakar dibakar mbakar ngobong diobong",
    ),
    Phrase(
        r"(?:disiram|menyiram|nyiram|siram) <ANY2>(?:air keras|air panas|air mendidih|bensin|"
        r"minyak panas|soda api)",
        "disiram menyiram nyiram siram + air bensin minyak soda",
    ),
    Phrase(
        r"(?:ditodong|menodong|nodong|menodongkan|mengacungkan|mengayunkan|ngacungke) <ANY2>"
        r"(?:pisau|parang|golok|celurit|clurit|arit|pistol|senjata|samurai)",
        "ditodong menodong nodong menodongkan mengacungkan mengayunkan ngacungke",
    ),
    Phrase(
        r"(?:hit|hits|beat|beats|beating|punched|punches|kicked|kicks|choked|chokes|strangled|"
        r"slapped|slaps|raped|abused|abuses) (?:me|(?:my|our|the) (?:wife|kids?|children|son|"
        r"daughter|mother|mom))",
        "hit hits beat beats beating punched punches kicked kicks choked chokes strangled slapped "
        "slaps raped abused abuses",
    ),
    Phrase(
        r"domestic (?:violence|abuse)|threaten(?:ed|s)? to kill|sexually assaulted|raped",
        "domestic threaten threatened threatens sexually raped",
    ),
)

# Wishes or plans to kill or hurt someone else.
DANGER_TO_OTHERS: tuple[Phrase, ...] = (
    Phrase(
        r"<NOTNEG>(?:ingin|mau|arep|akan|bakal|rasanya|niat|berniat|tega|kepikiran|terpikir|"
        r"berpikir untuk|takut|pikiran untuk) <FILL>(?:<KILL>|<HIT>)(?! (?:perasaan|hati)\b) "
        r"<ANY1><PERSON>",
        "ingin mau arep akan bakal rasanya niat berniat tega kepikiran terpikir berpikir takut"
        " pikiran + <KILL> <HIT>",
    ),
    Phrase(
        r"<NOTNEG>(?:ingin|mau|arep|akan|bakal|rasanya|niat|berniat|tega|kepikiran|terpikir|takut)"
        r" <FILL>(?:membunuh|menghabisi|mencelakai|menyakiti|meracuni|menusuk|membacok|"
        r"mencekik|mateni|pateni)(?:nya|mu|ne)",
        "ingin mau arep akan bakal rasanya niat berniat tega kepikiran terpikir takut + "
        + " ".join(
            f"{verb}nya {verb}mu {verb}ne"
            for verb in _split(
                "membunuh menghabisi mencelakai menyakiti meracuni menusuk membacok mencekik "
                "mateni pateni"
            )
        ),
    ),
    Phrase(
        r"(?:bunuh|habisi|bacok|tusuk|gorok) (?:saja )?(?:dia|mereka|kamu|kau|kalian|orang itu|"
        r"si \w+|suami|istri|bos|atasan)",
        "bunuh habisi bacok tusuk gorok",
    ),
    Phrase(
        r"ku(?:bunuh|habisi|bacok|tusuk|racun|racuni|celakai|bakar)",
        "kubunuh kuhabisi kubacok kutusuk kuracun kuracuni kucelakai kubakar",
    ),
    Phrase(
        r"(?:tidak|saya) (?:bunuh|habisi|bacok|tusuk|pateni|gorok|racun|racuni|hajar|antemi) "
        r"<ANY1><PERSON>",
        "bunuh habisi bacok tusuk pateni gorok racun racuni hajar antemi + tidak saya",
        lead=1,
    ),
    Phrase(
        r"(?:bakal|akan|mau|ingin) (?:saya|ku) (?:habisi|bunuh|bacok|tusuk|gorok|racun|racuni|"
        r"bakar)",
        "habisi bunuh bacok tusuk gorok racun racuni bakar + bakal akan mau ingin",
        lead=2,
    ),
    Phrase(
        r"(?<!tidak )(?<!tidak mau )(?<!tidak ingin )(?<!jangan )(?:melukai|mencelakai|menyakiti|"
        r"membunuh|menghabisi) orang lain|(?:bisa saja|sanggup) (?:membunuh|menghabisi|"
        r"mencelakai|menusuk|membacok)",
        "melukai mencelakai menyakiti membunuh menghabisi bisa sanggup",
    ),
    Phrase(r"(?:mateni|pateni) <PERSON>", "mateni pateni"),
    Phrase(
        r"(?:<HIT>|gebuki|gebukin|pukuli|pukul|hajar|tusuk|bacok|siksa|antemi) <ANY2>"
        r"(?:sampai|hingga) (?:mati|mampus|koit)",
        "<HIT> gebuki gebukin pukuli pukul hajar tusuk bacok siksa antemi + mati mampus koit",
    ),
    Phrase(
        r"(?:tidak bisa|tak bisa|sulit|susah) (?:menahan|mengendalikan|mengontrol) (?:diri|emosi) "
        r"<ANY3>(?:melukai|mencelakai|membunuh|menyakiti|memukul|menghajar)",
        "bisa sulit susah + menahan mengendalikan mengontrol",
        lead=1,
    ),
    Phrase(
        r"(?:siapkan|menyiapkan|bawa|membawa|beli|membeli|sudah) (?:senjata|pisau|golok|parang|"
        r"celurit|clurit|pistol|samurai) <ANY2>(?:untuk|buat) (?:membalas|balas|membunuh|"
        r"menghabisi|melukai|jaga jaga|berjaga)",
        "siapkan menyiapkan bawa membawa beli membeli sudah + senjata pisau golok parang celurit"
        " clurit pistol samurai",
    ),
    Phrase(
        r"(?:thinking about|think about|thoughts of|fantasi[sz]e about|fantasi[sz]ing about) "
        r"(?:killing|hurting|murdering|stabbing|shooting) (?!my ?self)",
        "thinking think thoughts fantasize fantasise fantasizing fantasising",
    ),
    Phrase(
        r"(?:rencana|merencanakan|berencana) <ANY2>(?:membunuh|menghabisi|meracuni|mencelakai)",
        "rencana merencanakan berencana + membunuh menghabisi meracuni mencelakai",
    ),
    Phrase(
        r"(?:want|wanna|going|gonna|will|plan|planning) (?:to )?(?:kill|murder|hurt|harm|stab|"
        r"shoot) (?!my ?self)",
        "want wanna going gonna will plan planning + kill murder hurt harm stab shoot",
    ),
    Phrase(
        r"kill (?:him|her|them|you|my (?:wife|husband|boss|kids?|son|daughter|family|"
        r"neighbou?r))",
        "kill",
    ),
)

CLASSES: dict[str, tuple[Phrase, ...]] = {
    "suicide": SUICIDE,
    "self_harm": SELF_HARM,
    "method": METHOD,
    "goodbye": GOODBYE,
    "violence": VIOLENCE,
    "danger_to_others": DANGER_TO_OTHERS,
}

# The word before "mati" that makes it a thing breaking down, not a person dying.
_INANIMATE = re.compile(
    r"(?:hp|hape|handphone|ponsel|baterai|batre|batrai|motor|mobil|mesin|lampu|listrik|laptop|"
    r"komputer|tv|televisi|kulkas|tanaman|pohon|ikan|ayam|kucing|anjing|sapi|kambing|bebek|aki|"
    r"sinyal|wifi|jaringan|server|aplikasi|sistem|kipas|ac|pompa|senter|jam|usaha|bisnis|toko|"
    r"warung|akun|kartu|pulsa|kuota)(?:nya|ne|ku)?"
)
_SKIPPED_BEFORE = frozenset(
    {"saya", "ku", "nya", "sudah", "kok", "lagi", "ini", "itu", "mau", "ingin", "terus", "sering"}
)
# A will in an inheritance or legal question is not a goodbye note.
_LEGAL = re.compile(
    r"\b(?:notaris|waris|warisan|ahli waris|almarhum|almarhumah|alm|mendiang|pengadilan|sah|"
    r"hukum|hukumnya|gugat|gugatan|sertifikat|tanah|pembagian|akta|harta)\b"
)
WEAK_DISTANCE = 300  # characters within which two weak goodbye cues count together
_BOUNDARY = "zzkalimatzz"  # survives normalise() untouched, then becomes "."


Guard = Callable[["_Message", int], bool]


def _inanimate_subject(message: _Message, start: int) -> bool:
    """True when the word just before a match names a thing, as in "hp saya mau mati"."""
    before = message.full[max(0, start - 60) : start].split()
    words = [w for w in before if w not in _SKIPPED_BEFORE]
    return bool(words) and _INANIMATE.fullmatch(words[-1]) is not None


def _legal_context(message: _Message, start: int) -> bool:
    """True when the sentence around the match is about inheritance or the law."""
    return _LEGAL.search(message.sentence_at(start)) is not None


_GUARDS: dict[str, Guard] = {"inanimate": _inanimate_subject, "legal": _legal_context}
_SLOT = re.compile(r"<([A-Z0-9]+)>")


def _expand(pattern: str) -> str:
    while _SLOT.search(pattern):
        pattern = _SLOT.sub(lambda m: SLOTS[m.group(1)], pattern)
    return pattern


def _anchor_groups(anchors: str) -> tuple[frozenset[str], ...]:
    groups = []
    for group in anchors.split("+"):
        words: set[str] = set()
        for token in group.split():
            slot = _SLOT.fullmatch(token)
            words.update(WORDS[slot.group(1)] if slot else (token,))
        groups.append(frozenset(words))
    return tuple(groups)


def _mark_sentences(text: str) -> str:
    """Sentences end at ".", "!" or "?" before a space; an ellipsis ("ingin... mati") does not."""
    text = text.replace("...", "   ")
    for end in (". ", "! ", "? ", ".\n", "!\n", "?\n"):
        text = text.replace(end, f" {_BOUNDARY} ")
    return text


class _Message:
    """A normalised message, one space between words, and which anchor words it holds."""

    def __init__(self, text: str, anchors: frozenset[str]) -> None:
        marked = _mark_sentences(text)
        self.full = normalise(marked).replace(_BOUNDARY, ".")
        self.present = anchors.intersection(self.full.split(" "))
        self._padded = f" {self.full} "

    def sentence_at(self, offset: int) -> str:
        start = self.full.rfind(" . ", 0, offset) + 1
        end = self.full.find(" . ", offset)
        return self.full[start : end if end >= 0 else len(self.full)]

    def has_all(self, groups: tuple[frozenset[str], ...]) -> bool:
        return all(not group.isdisjoint(self.present) for group in groups)

    def offsets(self, word: str) -> Iterator[int]:
        """Where each occurrence of the word starts in the message."""
        needle, found = f" {word} ", self._padded.find(f" {word} ")
        while found >= 0:
            yield found
            found = self._padded.find(needle, found + len(word) + 1)

    def back(self, offset: int, words: int) -> Iterator[int]:
        """The start of the word at offset and of up to `words` words before it."""
        yield offset
        for _ in range(words):
            if offset == 0:
                return
            offset = self.full.rfind(" ", 0, offset - 1) + 1
            yield offset


class _Rule(NamedTuple):
    crisis_class: str
    regex: re.Pattern[str]
    first: frozenset[str]
    rest: tuple[frozenset[str], ...]
    lead: int
    guard: Guard | None
    weak: bool

    @classmethod
    def build(cls, crisis_class: str, phrase: Phrase) -> _Rule:
        first, *rest = _anchor_groups(phrase.anchors)
        regex = re.compile(r"\b(?:" + _expand(phrase.pattern) + r")\b")
        guard = _GUARDS.get(phrase.guard or "")
        return cls(
            crisis_class, regex, first, tuple(rest), phrase.lead, guard, phrase.guard == "weak"
        )

    def positions(self, message: _Message) -> Iterator[int]:
        """Where in the normalised message this phrase matches and no guard vetoes it."""
        if not message.has_all(self.rest):
            return
        tried = {
            start
            for word in self.first.intersection(message.present)
            for offset in message.offsets(word)
            for start in message.back(offset, self.lead)
        }
        for start in sorted(tried):
            if self.regex.match(message.full, start) and not (
                self.guard and self.guard(message, start)
            ):
                yield start


def _any_found(rules: list[_Rule], message: _Message) -> bool:
    """A strong phrase anywhere, or two different weak ones close together."""
    if any(next(rule.positions(message), None) is not None for rule in rules if not rule.weak):
        return True
    found = [list(rule.positions(message)) for rule in rules if rule.weak]
    return any(
        abs(a - b) <= WEAK_DISTANCE
        for one, other in itertools.combinations(found, 2)
        for a in one
        for b in other
    )


class CrisisLexicon:
    """Screens a message for crisis phrases; returns the classes matched, never the text."""

    def __init__(self) -> None:
        self._rules = tuple(
            _Rule.build(name, phrase) for name, phrases in CLASSES.items() for phrase in phrases
        )
        self._starting: dict[str, frozenset[int]] = {}  # rules that can start at a word
        for i, rule in enumerate(self._rules):
            for word in rule.first:
                self._starting[word] = self._starting.get(word, frozenset()) | {i}
        self._anchors = frozenset(
            word for rule in self._rules for group in (rule.first, *rule.rest) for word in group
        )

    def screen(self, text: str) -> CrisisHit | None:
        message = _Message(text, self._anchors)
        candidates = frozenset().union(*(self._starting.get(w, ()) for w in message.present))
        by_class: dict[str, list[_Rule]] = {}
        for i in sorted(candidates):  # rules are numbered class by class, in CLASSES order
            by_class.setdefault(self._rules[i].crisis_class, []).append(self._rules[i])
        classes = tuple(name for name, rules in by_class.items() if _any_found(rules, message))
        return CrisisHit(classes=classes) if classes else None
