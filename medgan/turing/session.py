"""What a rater's link can do: see the next image (blinded), answer it, see their progress.

Every call checks the token again, so revoking a rater takes effect on their next click. Nothing here
reads the truth table.
"""

from __future__ import annotations

from dataclasses import dataclass

from medgan.turing import store
from medgan.turing.access import rater_for_token
from medgan.turing.blinding import rater_order, reencode_png


@dataclass(frozen=True)
class Progress:
    """How far a rater is: ``done`` of ``total`` images answered."""

    done: int
    total: int

    @property
    def finished(self) -> bool:
        """True when every image has an answer."""
        return self.done >= self.total


def _order(token: str) -> tuple[store.Rater, list[str]]:
    rater = rater_for_token(token)
    study = store.get_study(rater.study_id)
    return rater, rater_order(study.seed, rater.token, store.image_ids(study.id))


def image_order(token: str) -> list[str]:
    """The full image order of this rater (the same on every call)."""
    return _order(token)[1]


def progress(token: str) -> Progress:
    """Answered and total images for this rater."""
    _, order = _order(token)
    return Progress(len(store.rated_image_ids(token) & set(order)), len(order))


def remaining_image_ids(token: str) -> list[str]:
    """The images of this rater's order still without an answer, in order (the first is the resume point)."""
    _, order = _order(token)
    rated = store.rated_image_ids(token)
    return [image_id for image_id in order if image_id not in rated]


def next_image_id(token: str) -> str | None:
    """The first image in this rater's order without an answer (resume point), or None when all are done."""
    return next(iter(remaining_image_ids(token)), None)


def serve_image(token: str, image_id: str) -> bytes:
    """Freshly encoded, metadata-free PNG bytes of one image of this rater's study."""
    rater = rater_for_token(token)
    return reencode_png(store.image_png(rater.study_id, image_id))


def record_answer(token: str, image_id: str, answer: str, confidence: int, comment: str = "") -> int:
    """Save one answer at once (append-only); returns the rating id.

    Raises AccessRefused (bad token), KeyError (image not in the study), ValueError (bad answer or
    confidence) or store.AlreadyRated (answered before).
    """
    rater = rater_for_token(token)
    if answer not in store.ANSWERS:
        raise ValueError(f"answer must be one of {store.ANSWERS}, not {answer!r}")
    if int(confidence) not in range(1, 6):
        raise ValueError(f"confidence must be 1 to 5, not {confidence!r}")
    store.image_png(rater.study_id, image_id)  # KeyError for an image of another study
    return store.insert_rating(
        rater.study_id, token, image_id, answer, int(confidence), comment.strip()[:2000]
    )
