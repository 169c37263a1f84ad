"""Rating screen: what a rater's link (``?rater=TOKEN``) opens, and nothing else.

One blinded image at a time, in the rater's own order; each answer is saved at once; a rater who comes back
continues with the next unrated image. No navigation, no labels, nothing about where an image came from.
"""

import streamlit as st

from medgan.turing import session, store
from medgan.turing.access import AccessRefused, rater_for_token

st.markdown("<style>[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'],"
            " [data-testid='stSidebarNav'] {display: none !important;}"
            " [data-testid='stImage'] img {image-rendering: pixelated;}</style>", unsafe_allow_html=True)

token = st.query_params.get("rater", "")
try:
    rater = rater_for_token(token)
    progress = session.progress(token)
    image_id = session.next_image_id(token)
except AccessRefused as refused:
    st.error(str(refused), icon=":material/block:")
    st.stop()

st.title("Real or synthetic?")
st.caption(f"Rater: {rater.name}. For each image, say whether you think it is a real scan or made by a "
           "computer, and how sure you are. Your answers are saved as you go; you can close this page "
           "and come back to the same link later.")
st.progress(progress.done / max(progress.total, 1), text=f"{progress.done} of {progress.total} images rated")

if image_id is None:
    st.success("All images are rated. Thank you for taking part!", icon=":material/check_circle:")
    st.stop()

left, right = st.columns([3, 2])
left.image(session.serve_image(token, image_id), width=448, output_format="PNG")  # "auto" would re-encode as JPEG
with right.form(f"rate_{image_id}", clear_on_submit=True):
    answer = st.radio("This image is", ["real", "synthetic"], index=None, horizontal=True,
                      format_func=str.capitalize, key="rate_answer")
    confidence = st.select_slider("How sure are you?", options=[1, 2, 3, 4, 5], value=3, key="rate_confidence",
                                  help="1 = guessing, 5 = certain")
    comment = st.text_area("Comment (optional)", max_chars=2000, key="rate_comment")
    submitted = st.form_submit_button("Save and show next", type="primary")

if submitted:
    if answer is None:
        st.warning("Choose Real or Synthetic before saving.")
    else:
        try:
            session.record_answer(token, image_id, answer, confidence, comment)
        except store.AlreadyRated:
            pass  # saved already (double click or a second tab): just move on
        except AccessRefused as refused:
            st.error(str(refused), icon=":material/block:")
            st.stop()
        st.rerun()
