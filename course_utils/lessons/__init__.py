"""Per-lesson helpers: what one lesson needs and no other (kept out of the learner-facing top level).

Each module names its lesson in its docstring's ``Used in:`` line and imports no framework at module
level unless its name says so (``..._pt`` / ``..._tf``), so ``import course_utils`` stays light.
"""
