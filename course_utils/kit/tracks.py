"""The workshop's curated tracks and each lesson's optional sections (data for course_utils/kit/schedule.py).

Kept here, not in the notebooks: the lessons stay as their authors wrote them, and the schedule
(``make schedule``) reads this file. A section is named by the start of its ``##`` heading (case and
backticks ignored); tests/test_schedule.py fails when a name here no longer matches a heading, so a
renamed section cannot silently drop out of the "what to skip" lists.

- ``OPTIONAL``: per lesson number, the ``##`` sections an instructor may skip in a shortened slot,
  in the order to drop them (the first is dropped first). Every other section is core: the setup,
  every section that holds an exercise, and the summary. A lesson with no entry (a new one, such
  as a lesson still being written) has only core sections until someone marks it here.
- ``TRACKS``: one-day tracks, each a story told with a few lessons; ``FULL_COURSE_DAYS``: every
  lesson over that many days.
"""
from __future__ import annotations

OPTIONAL: dict[str, list[str]] = {
    "01": ["Is PyTorch a GPU-enabled NumPy", "Share memory: NumPy and DLPack", "Gradients and devices"],
    "02": ["Write your own gradient", "Vectors out: sums and Jacobians", "Use one recording twice"],
    "03": ["Train: a hand-written loop in both", "Default initialisation differs"],
    "04": ["Measure what graphs buy", "Dynamic models: a recursive tree network"],
    "05": ["The TF1 debugger that older articles mean", "Inside compiled code: pdb meets a graph"],
    "06": ["CUDA basics every GPU user meets", "Placement logs", "Memory", "Mixed devices"],
    "07": ["Interop: one framework's pipeline", "Stream shards from files", "Determinism: what keeps it"],
    "08": ["Read the event files back", "A real TensorBoard server"],
    "09": ["Mobile and embedded: LiteRT and int8", "Exchange: ONNX from both", "Beyond Python: C and C++"],
    "10": ["The CUDA halves", "Inside the lesson-03 model"],
    "11": ["On a real cluster", "TensorFlow: MultiWorkerMirroredStrategy", "all_reduce on its own"],
    "12": ["On a GPU", "Profilers: where the time goes", "Mixed precision: bfloat16", "Memory", "Threads"],
    "13": ["Keras 3 on the torch backend", "Data and dashboards", "Devices", "Extensions, distributed training"],
    "14": ["The bridge: the Keras model on Keras' torch backend", "Two more defaults from the same table",
           "Eager vs a compiled graph"],
}

# (title, why this track, lesson numbers in teaching order). Lesson 00 is the day's setup check.
TRACKS: list[tuple[str, str, list[str]]] = [
    ("The same model, saved and ported",
     "tensors and gradients in both frameworks, one model built twice and proven equal, then saved, "
     "loaded without its code, and ported between the frameworks",
     ["01", "02", "03", "09", "13"]),
    ("Under the hood: graphs, bugs and speed",
     "what eager and graph execution are, how to debug each, where the data sits, and how to "
     "measure speed fairly",
     ["01", "04", "05", "06", "12"]),
    ("From data to a trained, deployed model",
     "input pipelines, the model in both frameworks, dashboards, saving and serving, and training "
     "on two processes",
     ["01", "03", "07", "08", "09", "11"]),
]
FULL_COURSE_DAYS = 2


def heading_key(text: str) -> str:
    """How a section name is compared: lower case, no backticks or quotes, single spaces."""
    return " ".join(text.replace("`", "").replace('"', "").lower().split())
