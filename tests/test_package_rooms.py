"""The package's rooms (course_utils/README.md, issue 33): the top level holds only the learner API and the
room folders; every module sits in the room its readers look in; ``base/`` stands on nothing above it."""
import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "course_utils"
LEARNER_API = {"__init__.py", "__main__.py", "session.py", "compare.py", "data.py", "bench.py",
               "pt_utils.py", "tf_utils.py", "record.py"}
ROOMS = {"base", "check", "kit", "lessons"}


def modules(room: str) -> list[Path]:
    return sorted((PACKAGE / room).glob("*.py"))


def relative_imports(path: Path) -> set[str]:
    """The package modules ``path`` imports, as dotted names below course_utils (``base.paths``)."""
    here = path.relative_to(PACKAGE).parent.parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(here[: len(here) - (node.level - 1)])
            target = base + (node.module.split(".") if node.module else [])
            found |= {".".join(target + [a.name]) for a in node.names} if not node.module else {".".join(target)}
    return found


def top_level_strays(package: Path) -> set[str]:
    """Files and folders at the package's top level that are neither the learner API nor a room, or missing."""
    files = {p.name for p in package.glob("*.py")}
    folders = {p.name for p in package.iterdir() if p.is_dir() and not p.name.startswith("__")}
    return (files ^ LEARNER_API) | (folders ^ ROOMS)


def test_top_level_is_the_learner_api_and_the_rooms():
    strays = top_level_strays(PACKAGE)
    assert not strays, f"top level: {sorted(strays)} (see course_utils/README.md: where a new piece goes)"


def test_the_readme_names_every_module_of_every_room():
    readme = (PACKAGE / "README.md").read_text()
    missing = [f"{room}/{p.stem}" for room in ("base", "kit", "lessons") for p in modules(room)
               if p.stem != "__init__" and not re.search(rf"`{p.stem}`", readme)]
    missing += [p.name for p in PACKAGE.glob("*.py") if not p.name.startswith("__") and p.name not in readme]
    assert not missing, f"course_utils/README.md does not name: {missing}"


def test_base_imports_nothing_from_the_rooms_above_it():
    for path in modules("base"):
        above = {m for m in relative_imports(path) if not m.startswith("base")}
        assert not above, f"base/{path.name} imports {sorted(above)}: base stands on nothing above it"


def test_every_lesson_helper_names_its_lesson():
    unnamed = [p.name for p in modules("lessons") if p.stem != "__init__"
               and not re.search(r"Used in:|Lesson \d\d|lesson \d\d|\d\d_[a-z]", ast.get_docstring(ast.parse(p.read_text())) or "")]
    assert not unnamed, f"lessons/ modules whose docstring names no lesson: {unnamed}"


def test_a_misplaced_module_is_caught(tmp_path):
    """The room rule fails for a real stray: a helper module dropped at the top level of a copy."""
    for name in LEARNER_API | {"graphs.py"}:
        (tmp_path / name).write_text("")
    for room in ROOMS:
        (tmp_path / room).mkdir()
    assert top_level_strays(tmp_path) == {"graphs.py"}
