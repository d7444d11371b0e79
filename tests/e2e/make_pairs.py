#!/usr/bin/env python3
# make_pairs.py OUT.jsonl N: N preference pairs of random VQ codes (the embedded default model has
# 512) and a few prompts, in the trainer JSONL a study split writes; seeded, so every run is alike.
import json, random, sys
random.seed(11)
prompts = ["a person walks forward", "a person jumps twice", "someone waves the right hand",
           "a man kicks with the left leg", "a person runs in a circle", "a woman squats slowly"]
degrees = ["much_better", "better", "slightly_better", "unsure"]
with open(sys.argv[1], "w") as out:
    for i in range(int(sys.argv[2])):
        out.write(json.dumps({"pair_id": i + 1, "prompt": random.choice(prompts),
                              "chosen": [random.randrange(512) for _ in range(random.randint(6, 14))],
                              "rejected": [random.randrange(512) for _ in range(random.randint(6, 14))],
                              "degree": random.choice(degrees)}) + "\n")
