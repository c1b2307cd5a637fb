"""What every config shape builds on: the strict base model and the field types they share.

Its own module so the shapes (`models`, `schedule`, `adapters`, `rules`) can all build on it
without importing one another: `ivr.schedule` used to import `Strict` from `models` while
`models` imported the schedule back, a circle held together by a forward reference.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NAME = r"^[a-z][a-z0-9_-]{0,39}$"
# A name ops give a queue, hotline, menu or prompt: lower case, so YAML keys and the generated
# dialplan agree whatever a file's author typed.
Name = Annotated[str, Field(pattern=NAME)]
Digits = Annotated[str, Field(pattern=r"^[0-9*#]{1,20}$")]
SkillLevel = Annotated[int, Field(ge=1, le=5)]


class Strict(BaseModel):
    """Unknown keys are errors and values never change once loaded.

    A typo in a YAML file must be an error, not a setting that silently does nothing; and a
    reload swaps in a new config instead of editing the running one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
