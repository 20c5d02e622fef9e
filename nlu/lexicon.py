"""The crisis safety net: phrase classes matched on normalised text, no network, no model.

Each class is a data table of phrases over the output of `nlu.normalise.normalise`
(lower case, single spaces, slang folded: "pengen" -> "ingin", "gak" -> "tidak",
"aku"/"kulo" -> "saya", "wae"/"aja" -> "saja", "urip" -> "hidup", "pejah" -> "mati").
A phrase is a regular expression matched on word boundaries; `<NAME>` is a shared
slot below. Its anchors are words of which every match contains at least one: only the
few words around an anchor are searched, which keeps a 4000-character message well
under a millisecond. A guard vetoes ordinary readings ("hp saya mau mati", "surat wasiat
almarhum bapak"); goodbye cues marked weak only count two at a time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import NamedTuple

from core.triage import CrisisHit
from nlu.normalise import normalise


class Phrase(NamedTuple):
    pattern: str
    anchors: str  # space-separated words; <NAME> adds every word of a WORDS list
    guard: str | None = None  # "inanimate", "legal" or "weak"


def _split(words: str) -> tuple[str, ...]:
    return tuple(words.split())


# Word lists used both as slots in patterns and as anchors.
WORDS: dict[str, tuple[str, ...]] = {
    "HIT": _split(
        "memukul memukuli mukul mukulin mukuli nggebuki ngegebukin nggebug nggebugi menampar "
        "nampar nampari menendang nendang nendangi mencekik nyekik menjambak njambak menganiaya "
        "menyiksa nyiksa menghajar ngehajar menonjok nonjok meninju ninju njotosi menjotos "
        "membacok menusuk nusuk membanting mbanting menyeret nyeret mengurung ngurung menyekap "
        "nyekap mengunci ngunci menyundut nyundut menggampar nggampar menempeleng nempeleng "
        "ngantemi memperkosa melecehkan mencabuli ngeplak ngepruk nabok menabok mancal "
        "nyepak"
    ),
    "HURT": _split(
        "dipukul dipukuli dipukulin ditampar ditampari ditendang ditendangi dicekik dijambak "
        "dianiaya disiksa dihajar dibacok ditusuk ditonjok dijotos ditinju digebuki digebukin "
        "digebug digebugi dipenthung dipentung dikeplak dikepruk diantemi dihantam dibanting "
        "disundut ditempeleng digampar disabet dibekap disekap dikurung diperkosa dilecehkan "
        "dicabuli dikeroyok ditabok dipancal disepak dipateni"
    ),
    "KILL": _split(
        "membunuh bunuh menghabisi habisi mencelakai celakai mencelakakan menyakiti nyakiti "
        "nyakitin menusuk nusuk membacok bacok meracuni racuni mateni pateni mencekik "
        "nyekik menggorok gorok menembak tembak"
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
    "NOTNEG": r"(?<!tidak )",
    # "mati" as dying, not a power cut, a dead battery or an idiom
    "MATI": (
        r"mati(?! (?:lampu|listrik|gaya|kutu|suri|rasa|angin|total|mesin|mendadak|kaku|"
        r"kelaparan|kepanasan|kedinginan|kebosanan|bosan|ketawa|ketakutan|penasaran|kaget)\b)"
    ),
    "BODY": r"(?:<BODYPART>)(?:ku|nya| saya| sendiri)?",
    "PERSON": (
        r"(?:saya|kami|kita|dia|mereka|kamu|kau|kalian|(?:istri|suami|anak|ibu|bapak|ayah|mama|"
        r"papa|mamah|adik|kakak|mertua|pacar|mantan|bojo|simbok|nenek|kakek|cucu|bayi|keluarga|"
        r"teman|tetangga|bos|atasan|rekan|orang|wong|selingkuhan|pelakor|kowe|koe|dheweke|mas|"
        r"mbak|pak|bu|keponakan|ponakan)(?:ku|nya|ne|mu|e)?(?: anak(?:ku|nya)?)?(?: saya)?)"
    ),
    "POISON": (
        r"(?:racun|baygon|pestisida|insektisida|potas|potasium|portas|sianida|apotas|"
        r"obat nyamuk|obat serangga|obat tikus|racun tikus|cairan pembersih|pembersih lantai|"
        r"karbol|wipol|porstex|soklin|bayclin|cuka para|air aki|air keras|thinner|tiner|"
        r"obat rumput|gramoxone|paraquat|furadan)"
    ),
}
POISON_ANCHORS = (
    "racun baygon pestisida insektisida potas potasium portas sianida apotas nyamuk serangga "
    "tikus pembersih karbol wipol porstex soklin bayclin para aki keras thinner tiner rumput "
    "gramoxone paraquat furadan"
)
PREPARE = "siapkan kusiapkan siapin menyiapkan sediakan menyediakan nyiapin nyiapke sudah"

# Thoughts of or wishes for one's own death, in Indonesian, Javanese, slang and English.
SUICIDE: tuple[Phrase, ...] = (
    Phrase(
        r"(?:mem)?bu?n[uo]?h ?di?ri(?:ku)?",
        "bunuh bnuh bunh bnh bunoh bnoh membunuh membunoh bunuhdiri bunuhdri bnhdiri bunohdiri",
    ),
    Phrase(r"bunuh awak(?:e|ku)?", "awak awake awakku + bunuh"),
    Phrase(r"n(?:g|ge)lalu", "nglalu ngelalu"),
    Phrase(r"<NOTNEG><WANT> <FILL><MATI>", "mati", "inanimate"),
    Phrase(r"<MATI> saja", "mati", "inanimate"),
    Phrase(
        r"(?:lebih baik|lebih enak|mending|sebaiknya|luwih becik|luwih apik) <FILL><MATI>",
        "mati",
        "inanimate",
    ),
    Phrase(
        r"(?:mengakhiri|mengakhirin|akhiri|akhirin|ngakhiri|ngakhirin|menyudahi|sudahi) "
        r"<ANY2>(?:hidup|nyawa)",
        "hidup hidupku nyawa + mengakhiri mengakhirin akhiri akhirin ngakhiri ngakhirin menyudahi"
        " sudahi",
    ),
    Phrase(
        r"(?:mengakhiri|mengakhirin|akhiri|akhirin|ngakhiri|ngakhirin|menyudahi|sudahi) "
        r"(?:semuanya|semua ini|segalanya)(?! dengan)",
        "mengakhiri mengakhirin akhiri akhirin ngakhiri ngakhirin menyudahi sudahi",
    ),
    Phrase(r"(?:menghabisi|habisi) (?:nyawa|diri) ?(?:saya|sendiri|ku)", "menghabisi habisi"),
    Phrase(
        r"tidak (?:ingin|mau|kuat|sanggup|betah|pantas|layak) <FILL>hidup"
        r"(?: (?:lagi|di dunia|didunia|selamanya)|$)",
        "hidup + tidak",
    ),
    Phrase(r"tidak (?:ingin|mau) (?:bangun (?:lagi|besok)|ada di dunia)", "bangun dunia + tidak"),
    Phrase(
        r"(?:ingin|mau) <FILL>(?:menghilang|hilang|ilang|pergi) (?:selamanya|dari dunia)",
        "selamanya dunia",
    ),
    Phrase(r"(?:ingin|mau) <FILL>tidur (?:untuk )?selamanya", "selamanya"),
    Phrase(
        r"(?:capek|lelah|bosan|bosen|muak|kesel|letih|penat) (?:dengan |sama |menjalani )?hidup"
        r"(?! (?:di|sebagai|bersama|serumah|dengan|sama|berdua|hemat|sederhana|sehat|mandiri|"
        r"terpisah|jauh|pas|ngontrak|numpang|susah|monoton)\b)",
        "hidup + capek lelah bosan bosen muak kesel letih penat",
    ),
    Phrase(
        r"hidup(?:ku|nya)? <ANY2>tidak (?:ada )?(?:artinya|gunanya|berarti|berguna)",
        "hidup hidupku hidupnya + artinya gunanya berarti berguna",
    ),
    Phrase(
        r"tidak ada (?:gunanya|artinya|alasan) (?:untuk |lagi )?(?:saya )?hidup",
        "hidup + gunanya artinya alasan",
    ),
    Phrase(
        r"(?:ingin|mau) (?:menyusul|nyusul) (?:almarhum|almarhumah|alm|ke alam baka|ke surga)",
        "menyusul nyusul",
    ),
    Phrase(
        r"(?:ingin|mau|minta|semoga) <FILL>(?:cepat )?(?:dipanggil|diambil|dijemput) "
        r"(?:tuhan|allah|gusti|yang maha kuasa)",
        "dipanggil diambil dijemput",
    ),
    Phrase(
        r"(?:dunia|semua|semuanya|keluarga|kalian|mereka|anak anak|istri|suami|orang orang)"
        r"(?: saya| ini| kita)? (?:akan )?(?:lebih baik|lebih bahagia|bahagia) tanpa "
        r"(?:saya|adanya saya|kehadiran saya)",
        "tanpa + baik bahagia",
    ),
    Phrase(
        r"(?:andai|seandainya|mending|lebih baik) saya tidak (?:pernah )?"
        r"(?:lahir|dilahirkan|ada di dunia)",
        "lahir dilahirkan dunia",
    ),
    Phrase(
        r"(?:lebih baik|mending) (?:saya )?(?:tidak ada|menghilang|tidak pernah ada)",
        "baik mending + ada menghilang",
    ),
    Phrase(r"suicid(?:e|al)|unalive", "suicide suicidal unalive"),
    Phrase(r"kill?(?:ing)? my ?self|kill me", "kill kil killing kiling"),
    Phrase(r"take my (?:own )?life|end(?:ing)? (?:my life|it all)", "life all + take end ending"),
    Phrase(r"(?:want|wanna|going|gonna|ready|deserve) (?:to )?die|better off dead", "die dead"),
    Phrase(
        r"(?:dont|do not|no longer) want to (?:live|be alive|wake up)|no reason to live",
        "live alive wake + want",
    ),
)

# Hurting oneself: cutting, burning, hitting one's own body.
SELF_HARM: tuple[Phrase, ...] = (
    Phrase(
        r"(?:sayat|sayatan|menyayat|nyayat|disayat|gores|menggores|nyilet|nyiletin|menyilet|"
        r"silet) <ANY2><BODY>",
        "sayat sayatan menyayat nyayat disayat gores menggores nyilet nyiletin menyilet silet",
    ),
    Phrase(r"<BODY> <ANY3>(?:sayatan|bekas silet|luka sayat)", "sayatan silet sayat"),
    Phrase(r"nyilet|nyeilet|menyilet|nyiletin", "nyilet nyeilet menyilet nyiletin"),
    Phrase(r"(?:iris|potong|sayat|gores|silet) nadi", "nadi"),
    Phrase(
        r"(?:melukai|menyakiti|nyakiti|nyakitin|nglarani|menyiksa|nyiksa|menghukum|memukul|"
        r"memukuli|mukul|mukulin) (?:diri|diriku|awak|awake|awakku)",
        "diri diriku awak awake awakku + melukai menyakiti nyakiti nyakitin nglarani menyiksa"
        " nyiksa menghukum memukul memukuli mukul mukulin",
    ),
    Phrase(
        r"(?:melukai|menyakiti|menyayat|mencakar|menusuk|nusuk|menyundut|nyundut) <BODY>",
        "melukai menyakiti menyayat mencakar menusuk nusuk menyundut nyundut",
    ),
    Phrase(
        r"(?:benturkan|membenturkan|benturin|jedotin|jedotkan|menjedotkan|membentur) "
        r"kepala(?:ku)?",
        "kepala kepalaku + benturkan membenturkan benturin jedotin jedotkan menjedotkan membentur",
    ),
    Phrase(r"self ?harm(?:ing)?|self injury|cutting", "self selfharm cutting injury"),
    Phrase(
        r"cut(?:ting)? (?:my ?self|my wrists?|my arms?)|hurt(?:ing)? my ?self",
        "cut cutting hurt hurting",
    ),
)

# Means and methods: hanging, poison, jumping, overdose, sharp objects.
METHOD: tuple[Phrase, ...] = (
    Phrase(r"(?:meng)?gantung ?(?:diri|leher)", "gantung menggantung gantungdiri"),
    Phrase(r"ngendhat|ngendat", "ngendhat ngendat"),
    Phrase(
        r"(?:siapkan|kusiapkan|siapin|menyiapkan|sediakan|menyediakan|nyiapin|nyiapke|ikatkan|"
        r"mengikat) <ANY2>tali(?! (?:sepatu|rafia|jemuran|tas|pramuka|kur|pusar|plastik|"
        r"layangan|kolor|silaturahmi|kasih|persaudaraan)\b)",
        "tali",
    ),
    Phrase(
        r"tali <ANY2>(?:di |ke )?(?:kamar|kusen|plafon|atap|usuk|blandar|kipas angin|leher)",
        "tali",
    ),
    Phrase(
        r"(?:minum|meminum|diminum|menenggak|nenggak|tenggak|menelan|nelan|nelen|telan|ditelan|"
        r"coba|mencoba|nyoba) <ANY2><POISON>",
        POISON_ANCHORS + " + minum meminum diminum menenggak nenggak tenggak menelan nelan nelen"
        " telan ditelan coba mencoba nyoba",
    ),
    Phrase(
        r"<POISON> <ANY2>(?:diminum|ditelan|saya minum|kuminum|saya telan)",
        POISON_ANCHORS + " + diminum ditelan minum kuminum telan",
    ),
    Phrase(
        r"(?:siapkan|kusiapkan|siapin|menyiapkan|sediakan|menyediakan|nyiapin|nyiapke|sudah "
        r"(?:ada|beli|membeli)) <ANY2>(?:racun|baygon|potas|sianida|apotas)",
        "racun baygon potas sianida apotas + " + PREPARE,
    ),
    Phrase(
        r"racun tikus(?! (?:di|untuk|buat|ke) (?:gudang|sawah|kebun|dapur|rumah|lumbung|plafon|"
        r"kantor|toko|warung|tikus)\b)",
        "tikus",
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
        "diri + menabrakkan menabrakan nabrakin nabrakke menceburkan menjatuhkan melemparkan"
        " menerjunkan menenggelamkan tenggelamkan membakar bakar tusuk menusuk",
    ),
    Phrase(r"(?:tidur|tiduran|berbaring|rebahan) di (?:atas )?rel", "rel"),
    Phrase(
        r"overdosis|overdos(?:e|ing)|dosis (?:yang )?(?:mematikan|berlebih)|lethal dose",
        "overdosis overdose overdosing dosis dose",
    ),
    Phrase(
        r"obat(?: tidur)? <ANY2>(?:sekaligus|segenggam|sestrip|satu strip|sebotol|satu botol|"
        r"berlebihan|puluhan butir|sampai habis)",
        "obat + sekaligus segenggam sestrip strip sebotol botol berlebihan puluhan habis",
    ),
    Phrase(
        r"(?:minum|menelan|telan|nelen|menenggak) obat <ANY1>banyak (?:banget |sekali )?"
        r"(?:biar|supaya|agar|sampai|sekaligus)",
        "obat + banyak",
    ),
    Phrase(
        r"(?:minum|menelan|telan|nelen|menenggak) (?:semua|segenggam|sebotol|puluhan) "
        r"(?:obat|pil|tablet|butir)",
        "obat pil tablet butir + semua segenggam sebotol puluhan",
    ),
    Phrase(
        r"cara <ANY2>(?:<MATI>|bunuh diri|mengakhiri hidup) <ANY2>(?:tanpa (?:rasa )?sakit|"
        r"paling cepat|cepat|instan|tidak sakit)",
        "cara + mati diri hidup",
    ),
    Phrase(r"pisau <ANY2>(?:ke |di )?(?:leher|nadi)", "pisau"),
    Phrase(r"hang(?:ing)? my ?self|(?:slit|cut) my wrists?", "hang hanging wrist wrists"),
    Phrase(r"jump(?:ing)? (?:off|from) (?:a |the )?(?:bridge|building|roof)", "jump jumping"),
    Phrase(
        r"(?:take|took|swallow|swallowed) (?:all|a lot of|many|a bunch of) (?:my )?"
        r"(?:pills|tablets|meds)",
        "pills tablets meds",
    ),
)

# Farewell notes. Weak cues ("titip anak", "saya pamit") only count two at a time.
GOODBYE: tuple[Phrase, ...] = (
    Phrase(
        r"surat wasiat|wasiat terakhir|surat (?:perpisahan|terakhir) (?:saya|untuk)",
        "wasiat perpisahan terakhir",
        "legal",
    ),
    Phrase(
        r"ini (?:adalah )?(?:pesan|chat|kata kata|tulisan) terakhir",
        "terakhir + pesan chat kata tulisan",
    ),
    Phrase(
        r"pesan terakhir (?:saya |ku )?(?:untuk|buat) (?:kalian|semua|keluarga|anak|istri|suami|"
        r"kamu|ibu|bapak)",
        "terakhir + pesan",
    ),
    Phrase(
        r"selamat tinggal (?:semua|semuanya|selamanya|dunia|kalian|untuk selamanya)",
        "tinggal + selamat",
    ),
    Phrase(r"pamit (?:untuk )?selamanya|pamit dari dunia", "pamit"),
    Phrase(
        r"sampai (?:jumpa|ketemu) (?:lagi )?di (?:surga|akhirat|kehidupan (?:lain|berikutnya|"
        r"selanjutnya)|alam lain)",
        "jumpa ketemu + surga akhirat kehidupan alam",
    ),
    Phrase(
        r"goodbye (?:forever|everyone|world|cruel world)|my (?:last|final) "
        r"(?:message|goodbye|words)",
        "goodbye last final + forever everyone world my",
    ),
    Phrase(
        r"maafkan (?:saya|kulo)(?: atas| untuk)? (?:selama ini|semuanya|segalanya|"
        r"semua kesalahan)",
        "maafkan",
        "weak",
    ),
    Phrase(r"maaf <ANY3>(?:menyusahkan|merepotkan|jadi beban|menjadi beban)", "maaf", "weak"),
    Phrase(r"titip (?:anak anak|anak|anakku|istri|suami|ibu|bojo)", "titip", "weak"),
    Phrase(
        r"jaga (?:anak anak|anakku|anak anakku|anak saya|ibu)", "jaga + anak anakku ibu", "weak"
    ),
    Phrase(
        r"terima kasih (?:untuk|atas) (?:semuanya|segalanya|selama ini)",
        "kasih + semuanya segalanya selama",
        "weak",
    ),
    Phrase(r"saya pamit", "pamit", "weak"),
    Phrase(r"selamat tinggal", "tinggal + selamat", "weak"),
    Phrase(r"ini yang terakhir", "terakhir + yang", "weak"),
    Phrase(r"jangan cari saya", "cari + jangan", "weak"),
    Phrase(
        r"tidak akan (?:ketemu|bertemu|melihat saya) lagi", "ketemu bertemu melihat + lagi", "weak"
    ),
)

# Violence suffered: beating, choking, threats with weapons, sexual violence, confinement.
VIOLENCE: tuple[Phrase, ...] = (
    Phrase(
        r"<HURT>(?! (?:rata|mundur|jarum|deadline|tugas|kerjaan|pekerjaan|cicilan|utang|hutang|"
        r"inflasi|kenyataan|waktu|dari (?:grup|tim|jabatan|proyek|kantor))\b)",
        "<HURT>",
    ),
    Phrase(
        r"kdrt|kekerasan (?:dalam rumah tangga|fisik|seksual)|pemerkosaan|perkosaan|"
        r"pelecehan seksual|pencabulan|penganiayaan",
        "kdrt kekerasan pemerkosaan perkosaan pelecehan pencabulan penganiayaan",
    ),
    Phrase(r"<HIT> <ANY1><PERSON>", "<HIT>"),
    Phrase(r"<HIT>(?:ku|in saya)", " ".join(f"{v}ku {v}in" for v in WORDS["HIT"])),
    Phrase(
        r"(?:sering|suka|selalu|pernah|sampai|mulai|kerap|tega|berani) <HIT>",
        "<HIT> + sering suka selalu pernah sampai mulai kerap tega berani",
    ),
    Phrase(r"(?:main|bermain) (?:tangan|fisik)|kasar secara fisik", "main bermain kasar"),
    Phrase(
        r"(?:dikunci|dikurung|disekap) <ANY2>(?:di |dalam )?(?:kamar|gudang|kamar mandi)",
        "dikunci dikurung disekap",
    ),
    Phrase(
        r"(?:diancam|mengancam|ngancam|ngancem|diancem|ancam) <ANY3>(?:dibunuh|bunuh|membunuh|"
        r"dipateni|mateni|pateni|dihabisi|menghabisi|pisau|parang|golok|celurit|clurit|arit|sabit|"
        r"senjata|pistol|bacok|dibacok|membacok|dibakar|membakar|disiram|menyiram|dipukul|memukul|"
        r"ditusuk|menusuk|mencelakai|dicelakai|diculik|menculik|menyakiti|disakiti|bakar)",
        "diancam mengancam ngancam ngancem diancem ancam",
    ),
    Phrase(
        r"(?:membakar|bakar|dibakar|mbakar|ngobong|diobong) (?:rumah|kamar|mobil saya|"
        r"motor saya|saya|anak)",
        "membakar bakar dibakar mbakar ngobong diobong + rumah kamar mobil motor saya anak",
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
        r"slapped|slaps|raped|abused|abuses) (?:me|my (?:wife|kids?|children|son|daughter|"
        r"mother|mom))",
        "hit hits beat beats beating punched punches kicked kicks choked chokes strangled slapped "
        "slaps raped abused abuses",
    ),
    Phrase(
        r"domestic (?:violence|abuse)|threaten(?:ed|s)? to kill|sexually assaulted|raped",
        "domestic threaten threatened threatens assaulted raped",
    ),
)

# Wishes or plans to kill or hurt someone else.
DANGER_TO_OTHERS: tuple[Phrase, ...] = (
    Phrase(
        r"<NOTNEG>(?:ingin|mau|arep|akan|bakal|rasanya|niat|berniat|tega|kepikiran|terpikir|"
        r"berpikir untuk|takut) <FILL><KILL> <ANY1><PERSON>",
        "<KILL>",
    ),
    Phrase(
        r"(?:bunuh|habisi|bacok|tusuk|gorok) (?:saja )?(?:dia|mereka|kamu|kau|kalian|orang itu|"
        r"si \w+|suami|istri|bos|atasan)",
        "bunuh habisi bacok tusuk gorok",
    ),
    Phrase(
        r"ku(?:bunuh|habisi|bacok|tusuk|racun|celakai)",
        "kubunuh kuhabisi kubacok kutusuk kuracun kucelakai",
    ),
    Phrase(r"(?:mateni|pateni) <PERSON>", "mateni pateni"),
    Phrase(
        r"(?:rencana|merencanakan|berencana) <ANY2>(?:membunuh|menghabisi|meracuni|mencelakai)",
        "membunuh menghabisi meracuni mencelakai",
    ),
    Phrase(
        r"(?:want|wanna|going|gonna|will|plan|planning) (?:to )?(?:kill|murder|hurt|harm|stab|"
        r"shoot) (?!my ?self)",
        "kill murder hurt harm stab shoot",
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

# Words before "mati" that make it a thing breaking down, not a person dying.
_INANIMATE = re.compile(
    r"(?:hp|hape|handphone|ponsel|baterai|batre|batrai|motor|mobil|mesin|lampu|listrik|laptop|"
    r"komputer|tv|televisi|kulkas|tanaman|pohon|ikan|ayam|kucing|anjing|sapi|kambing|bebek|aki|"
    r"sinyal|wifi|jaringan|server|aplikasi|sistem|kipas|ac|pompa|senter|jam|usaha|bisnis|toko|"
    r"warung|akun|kartu|pulsa|kuota)(?:nya|ne|ku)?"
)
# A will in an inheritance or legal question is not a goodbye note.
_LEGAL = re.compile(
    r"\b(?:notaris|waris|warisan|ahli waris|almarhum|almarhumah|alm|mendiang|pengadilan|sah|"
    r"hukum|hukumnya|gugat|gugatan|sertifikat|tanah|pembagian|akta|harta)\b"
)
_SKIPPED_BEFORE = frozenset(
    {"saya", "ku", "nya", "sudah", "kok", "lagi", "ini", "itu", "mau", "ingin", "terus", "sering"}
)
WINDOW = 10  # words searched either side of an anchor; longer than any phrase

Guard = Callable[[str, int, "_Message"], bool]


def _inanimate_subject(segment: str, start: int, message: _Message) -> bool:
    """True when the words just before a match name a thing, as in "hp saya mau mati"."""
    before = [w for w in segment[max(0, start - 60) : start].split() if w not in _SKIPPED_BEFORE]
    return bool(before) and _INANIMATE.fullmatch(before[-1]) is not None


def _legal_context(segment: str, start: int, message: _Message) -> bool:
    return message.legal


_GUARDS: dict[str, Guard] = {"inanimate": _inanimate_subject, "legal": _legal_context}
_SLOT = re.compile(r"<([A-Z0-9]+)>")


def _expand(pattern: str) -> str:
    while _SLOT.search(pattern):
        pattern = _SLOT.sub(lambda m: SLOTS[m.group(1)], pattern)
    return pattern


def _anchor_groups(anchors: str) -> tuple[frozenset[str], ...]:
    """ "a b + c" is (a or b) and c; a <NAME> token stands for every word of WORDS[NAME]."""
    groups = []
    for group in anchors.split("+"):
        words: set[str] = set()
        for token in group.split():
            slot = _SLOT.fullmatch(token)
            words.update(WORDS[slot.group(1)] if slot else (token,))
        groups.append(frozenset(words))
    return tuple(groups)


class _Rule(NamedTuple):
    regex: re.Pattern[str]
    anchors: tuple[frozenset[str], ...]
    guard: Guard | None
    weak: bool

    @classmethod
    def build(cls, phrase: Phrase) -> _Rule:
        regex = re.compile(r"\b(?:" + _expand(phrase.pattern) + r")\b")
        guard = _GUARDS.get(phrase.guard) if phrase.guard else None
        return cls(regex, _anchor_groups(phrase.anchors), guard, phrase.guard == "weak")

    def found_in(self, message: _Message) -> bool:
        first, *rest = self.anchors
        if not message.has_any(first) or not all(message.has_any(group) for group in rest):
            return False
        return any(self._found_in(segment, message) for segment in message.around(first))

    def _found_in(self, segment: str, message: _Message) -> bool:
        pos = 0
        while (match := self.regex.search(segment, pos)) is not None:
            if self.guard is None or not self.guard(segment, match.start(), message):
                return True
            pos = match.start() + 1
        return False


class _Message:
    """A normalised message split in words, and which anchor words it holds."""

    def __init__(self, text: str, anchors: frozenset[str]) -> None:
        self.full = normalise(text)
        self.words = self.full.split()
        self.present = anchors.intersection(self.words)
        self._segments: dict[tuple[int, int], str] = {}

    @functools.cached_property
    def legal(self) -> bool:
        return _LEGAL.search(self.full) is not None

    def has_any(self, words: frozenset[str]) -> bool:
        return not words.isdisjoint(self.present)

    def around(self, words: frozenset[str]) -> list[str]:
        """The stretches of text within WINDOW words of any of these words."""
        found = sorted(i for word in words.intersection(self.present) for i in self._at[word])
        spans: list[tuple[int, int]] = []
        for i in found:
            lo, hi = max(0, i - WINDOW), i + WINDOW + 1
            if spans and lo <= spans[-1][1]:
                spans[-1] = (spans[-1][0], hi)
            else:
                spans.append((lo, hi))
        return [self._segment(span) for span in spans]

    @functools.cached_property
    def _at(self) -> dict[str, list[int]]:
        at: dict[str, list[int]] = {word: [] for word in self.present}
        for i, word in enumerate(self.words):
            if word in at:
                at[word].append(i)
        return at

    def _segment(self, span: tuple[int, int]) -> str:
        if span not in self._segments:
            self._segments[span] = " ".join(self.words[span[0] : span[1]])
        return self._segments[span]


class CrisisLexicon:
    """Screens a message for crisis phrases; returns the classes matched, never the text."""

    def __init__(self) -> None:
        self._classes = {
            name: tuple(_Rule.build(phrase) for phrase in phrases)
            for name, phrases in CLASSES.items()
        }
        self._anchors = frozenset().union(
            *(group for rules in self._classes.values() for rule in rules for group in rule.anchors)
        )

    def screen(self, text: str) -> CrisisHit | None:
        message = _Message(text, self._anchors)
        if not message.present:
            return None
        classes = tuple(name for name, rules in self._classes.items() if _hit(rules, message))
        return CrisisHit(classes=classes) if classes else None


def _hit(rules: tuple[_Rule, ...], message: _Message) -> bool:
    if any(not rule.weak and rule.found_in(message) for rule in rules):
        return True
    return sum(1 for rule in rules if rule.weak and rule.found_in(message)) >= 2
