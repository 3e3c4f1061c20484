"""requirements.txt and environment.yml pin the same versions (STYLE.md: pinned in one place, mirrored)."""
import re

from course_utils.kit.doctor import pinned_requirements
from course_utils.base.paths import course_root


def environment_pins():
    pins = {}
    for line in (course_root() / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if m:
            pins[m.group(1)] = m.group(2)
    return pins


def test_requirements_and_environment_agree():
    assert pinned_requirements() == environment_pins()


def test_every_requirement_is_pinned_exactly():
    for line in (course_root() / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][^\s]*", line), f"not an exact pin: {line}"


def test_torch_pinned_to_the_cpu_build_on_disk():
    assert pinned_requirements()["torch"] == "2.13.0"


def test_every_environment_dependency_is_commented():
    in_pip = False
    for line in (course_root() / "environment.yml").read_text().splitlines():
        if "==" in line:
            assert "#" in line, f"environment.yml: say what this is for: {line.strip()}"


def test_readme_carries_no_version_numbers():
    readme = (course_root() / "README.md").read_text()
    for name, version in pinned_requirements().items():
        assert f"{name}=={version}" not in readme and f"{name} {version}" not in readme
