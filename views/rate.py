"""Rating screen: what a rater's link (``?rater=TOKEN``) opens, and nothing else.

One blinded image at a time, in the rater's own order; each answer is saved at once; a rater who comes back
continues with the next unrated image. No navigation, no labels, nothing about where an image came from.
An answer reruns only the rating fragment (not the page) and the next images are encoded in advance (after
the current one is sent), so the next image appears without a page reload; the image travels inline in that
update (no second request).
"""

import streamlit as st

from medgan.turing import session, store
from medgan.turing.access import AccessRefused, rater_for_token
from medgan.turing.blinding import png_data_uri

PREFETCH = 2  # images encoded ahead of the rater

st.markdown(
    "<style>[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'],"
    " [data-testid='stSidebarNav'] {display: none !important;}"
    " img.rate-image {image-rendering: pixelated; width: 448px; max-width: 100%; height: auto;"
    " object-fit: contain !important;}</style>",
    unsafe_allow_html=True,
)

token = st.query_params.get("rater", "")
try:
    rater = rater_for_token(token)
except AccessRefused as refused:
    st.error(str(refused), icon=":material/block:")
    st.stop()

st.title("Real or synthetic?")
st.caption(
    f"Rater: {rater.name}. For each image, say whether you think it is a real scan or made by a "
    "computer, and how sure you are. Your answers are saved as you go; you can close this page "
    "and come back to the same link later."
)


def _save() -> None:
    """Form callback: save the answer before the fragment reruns, then clear the form for the next image."""
    state = st.session_state
    answer, confidence = state.get("rate_answer"), state.get("rate_confidence")
    if answer is None or confidence is None:
        state["rate_missing"] = True
        return
    try:
        session.record_answer(token, state["rate_current"], answer, confidence, state.get("rate_comment", ""))
    except store.AlreadyRated:
        pass  # saved already (double click or a second tab): just move on
    except AccessRefused as refused:
        state["rate_refused"] = str(refused)
    state["rate_answer"], state["rate_confidence"], state["rate_comment"] = None, None, ""


def _image(image_id: str) -> bytes:
    """The image's PNG from the prefetch cache (encoded now if it is not there)."""
    return st.session_state.setdefault("rate_prefetch", {}).pop(image_id, None) or session.serve_image(
        token, image_id
    )


def _prefetch(upcoming: list[str]) -> None:
    """Encode the next few images ahead (after the current one is on its way to the browser); bounded."""
    cache: dict[str, bytes] = st.session_state.setdefault("rate_prefetch", {})
    for stale in [k for k in cache if k not in upcoming[:PREFETCH]]:
        del cache[stale]
    for next_id in upcoming[:PREFETCH]:
        if next_id not in cache:
            cache[next_id] = session.serve_image(token, next_id)


@st.fragment
def rating() -> None:
    """Progress, the current image and the answer form; an answer reruns only this fragment."""
    if "rate_refused" in st.session_state:
        st.error(st.session_state["rate_refused"], icon=":material/block:")
        return
    try:
        remaining = session.remaining_image_ids(token)
        progress = session.progress(token)
    except AccessRefused as refused:
        st.error(str(refused), icon=":material/block:")
        return
    st.progress(
        progress.done / max(progress.total, 1), text=f"{progress.done} of {progress.total} images rated"
    )
    if not remaining:
        st.success("All images are rated. Thank you for taking part!", icon=":material/check_circle:")
        return
    st.session_state["rate_current"] = remaining[0]
    left, right = st.columns([3, 2])
    png = _image(remaining[0])
    left.markdown(
        f'<img class="rate-image" alt="image to rate" src="{png_data_uri(png)}">', unsafe_allow_html=True
    )
    with right.form("rate_form"):
        st.radio(
            "This image is",
            ["real", "synthetic"],
            index=None,
            horizontal=True,
            format_func=str.capitalize,
            key="rate_answer",
        )
        st.radio(
            "How sure are you? (1 = guessing, 5 = certain)",
            [1, 2, 3, 4, 5],
            index=None,
            horizontal=True,
            key="rate_confidence",
        )
        st.text_area("Comment (optional)", max_chars=2000, key="rate_comment")
        st.form_submit_button("Save and show next", type="primary", on_click=_save)
    if st.session_state.pop("rate_missing", False):
        st.warning("Choose Real or Synthetic and how sure you are before saving.")
    _prefetch(remaining[1:])


rating()
