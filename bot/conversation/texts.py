"""Every sentence the bot says to a person, keyed by a message id.

Handlers never hold person-facing literals: they name a message id here and pass values. Texts are
Telegram HTML (the bot's default parse mode), so values are escaped by `text()` before they are
put in. A later issue moves these into per-language catalogs; the ids stay.
"""

from __future__ import annotations

import html
from typing import Any

MESSAGES: dict[str, str] = {
    # --- welcome, help
    "welcome": (
        "👋 <b>Hello!</b> I can give an AI estimate of a skin problem from photos.\n\n"
        "You send 1 to 5 photos and answer a few short questions. I send them to the "
        "Model Dermatology AI, which lists the conditions it finds most likely, and I tell "
        "you what to do next.\n\n"
        "I am <b>not a doctor</b> and this is <b>not a diagnosis</b>. The AI is not certified "
        "by the FDA or CE. For anything that worries you, see a doctor."
    ),
    "help": (
        "<b>How it works</b>\n"
        "1. Agree to how your photos are used (once).\n"
        "2. Send 1 to 5 clear photos of the skin problem, then press <b>Done</b>.\n"
        "3. Answer a few questions (you can skip any).\n"
        "4. Check the summary and press <b>Send for analysis</b>.\n\n"
        "<b>Commands</b>\n"
        "/new – start a new check\n"
        "/cancel – stop and discard the current check\n"
        "/history – your recent checks\n"
        "/privacy – what happens to your photos, your consent\n"
        "/withdraw – withdraw your consent\n"
        "/delete – erase everything I keep about you\n"
        "/status – is the AI service up?\n"
        "/help – this message"
    ),
    "private_only": (
        "To keep photos of skin private, I only work in a private chat. "
        "Please write to me directly: {link}"
    ),
    # --- consent
    "consent_renew": (
        "The terms have changed since you last agreed. Please read them again before your "
        "next check:"
    ),
    "consent_agree": "✅ I agree",
    "consent_disagree": "❌ I do not agree",
    "consent_accepted": "Thank you. Your agreement is recorded ({when}).",
    "consent_declined": (
        "Understood. Nothing has been sent anywhere and no photo was kept. "
        "If you change your mind, send /start."
    ),
    "consent_needed": (
        "I need your agreement before I can send any photo for analysis. Send /start to read "
        "the terms."
    ),
    # --- whose skin
    "subject_question": "Whose skin is this check about?",
    "subject_own": "My own skin",
    "subject_other": "Someone else's (they agreed)",
    "patient_ref_question": (
        "Optional: type a short reference for this person (for example a patient code), so you "
        "can recognise the check later in /history. It stays here and is never sent to the AI. "
        "Do not type their name."
    ),
    "patient_ref_invalid": (
        "Please type a short reference of at most {max} characters, or press <b>Skip</b>."
    ),
    # --- photos
    "photos_request": (
        "📷 Now send 1 to 5 photos of the skin problem.\n"
        "• One close-up and one from further away\n"
        "• Good daylight, in focus, the problem in the centre\n"
        "• No rulers, pen marks or filters\n"
        "You can send them one by one or as an album."
    ),
    "photos_received": "Photo {count} of {max} received.",
    "photos_received_many": "Photos {first}–{count} of {max} received.",
    "photos_next": "Send more, or press <b>Done</b> when you have sent all you want.",
    "photos_full": "That is the maximum of {max} photos. Press <b>Done</b> to continue.",
    "photo_sixth_refused": (
        "You have already sent {max} photos, the most I can use; this one was not kept. "
        "Press <b>Done</b> to continue, or replace a photo you sent."
    ),
    "photos_none_yet": "Please send at least one photo of the skin problem first.",
    "photo_warning": "Photo {number} {problems}. Keep it, or replace it with a better one?",
    "photo_warning_blurry": "looks blurry",
    "photo_warning_dark": "looks too dark",
    "photo_warning_overexposed": "looks too bright",
    "photo_warning_small": "is quite small",
    "photo_keep": "Keep it",
    "photo_replace": "Replace it",
    "photo_kept": "Kept.",
    "photo_removed": "Photo {number} removed. Send a new one when you are ready.",
    "photo_rejected": "{reason}",
    "photo_not_image": (
        "I can only use photos. Please send a picture of the skin problem "
        "(as a photo, or a JPEG, PNG, WebP or HEIC file)."
    ),
    "photo_unsupported": (
        "I cannot read this kind of file. Please send the photo as JPEG, PNG, WebP or HEIC."
    ),
    "photo_corrupt": "This image seems damaged or incomplete. Please send it again.",
    "photo_too_big": (
        "This file is too large for me ({size}; the limit is {limit}). Please send it as a "
        "photo instead of a file, or make it smaller."
    ),
    "photo_too_many_pixels": (
        "This image is too large for me to open safely. Please send it as a normal photo."
    ),
    "photo_download_failed": (
        "I could not fetch that photo from Telegram just now. Please send it once more."
    ),
    "unsupported_media": (
        "I cannot use {kind} here. Please send photos of the skin problem, "
        "or use the buttons below."
    ),
    "media_video": "videos",
    "media_sticker": "stickers",
    "media_voice": "voice messages",
    "media_audio": "audio",
    "media_location": "locations",
    "media_contact": "contacts",
    "media_other": "this kind of message",
    "button_done": "✅ Done",
    # --- questionnaire
    "q_birth_year": "What is the <b>year of birth</b> of the person with the skin problem? "
    "Type it, for example 1984.",
    "q_birth_year_invalid": (
        "Please type a year between {oldest} and {youngest}, for example 1984, or press "
        "<b>Skip</b>."
    ),
    "q_sex": "What is their <b>sex</b>?",
    "sex_f": "Female",
    "sex_m": "Male",
    "q_skin_type": "Which <b>skin type</b> fits best? (How the skin reacts to the sun.)",
    "skin_1": "I · always burns, never tans",
    "skin_2": "II · usually burns, tans a little",
    "skin_3": "III · sometimes burns, tans evenly",
    "skin_4": "IV · rarely burns, tans easily",
    "skin_5": "V · very rarely burns, brown skin",
    "skin_6": "VI · never burns, dark brown skin",
    "q_body_site": "<b>Where</b> on the body is it?",
    "site_face": "Face",
    "site_scalp": "Scalp",
    "site_neck": "Neck",
    "site_chest": "Chest",
    "site_back": "Back",
    "site_belly": "Belly",
    "site_arm": "Arm",
    "site_hand": "Hand",
    "site_leg": "Leg",
    "site_foot": "Foot",
    "site_genital": "Genital area",
    "site_other": "Other (type it)",
    "q_body_site_text": "Please type where it is, in a few words (for example: left ear).",
    "q_body_site_invalid": (
        "Please type the body site in a few words (at most {max} characters), or press <b>Skip</b>."
    ),
    "q_itch": "Does it <b>itch</b>?",
    "q_pain": "Does it <b>hurt</b>?",
    "severity_x": "No",
    "severity_o": "Mild or moderate",
    "severity_v": "Severe",
    "q_onset": "<b>How long</b> has it been there?",
    "onset_d": "Less than a week",
    "onset_w": "Less than a month",
    "onset_m": "Less than a year",
    "onset_y": "Over a year, or since birth",
    "button_skip": "Skip",
    "use_buttons": "Please choose one of the buttons below (or press <b>Skip</b>).",
    "text_at_photos": "Please send a photo, or press <b>Done</b> when you have sent them all.",
    # --- summary
    "summary_title": "<b>Please check before sending</b>",
    "summary_photos": "Photos: {count}",
    "summary_whose": "Whose skin: {value}",
    "summary_reference": "Reference: {value}",
    "summary_line": "{label}: {value}",
    "label_birth_year": "Year of birth",
    "label_sex": "Sex",
    "label_skin_type": "Skin type",
    "label_body_site": "Body site",
    "label_itch": "Itch",
    "label_pain": "Pain",
    "label_onset": "How long",
    "summary_skipped": "not given",
    "summary_send_note": (
        "When you press <b>Send for analysis</b>, the photos and answers (not the reference, "
        "not your name) go to the Model Dermatology service."
    ),
    "button_send": "📤 Send for analysis",
    "button_change": "✏️ Change an answer",
    "button_cancel": "✖️ Cancel",
    "button_back": "↩️ Back",
    "change_which": "Which answer do you want to change?",
    "change_photos": "Photos",
    "label_reference": "Reference",
    # --- analysis and result
    "analysing": "⏳ Analysing your {count} photo(s)… this usually takes under a minute.",
    "result_title": "<b>AI estimate</b> (check {case})",
    "result_intro": "Most likely conditions, according to the AI:",
    "result_line": "{rank}. {name} — {percent}\n<code>{bar}</code>",
    "result_malignancy": "Malignancy output of the AI: {value} (scale not published).",
    "result_photos_used": "Photos analysed: {count}.",
    "result_nothing": "The AI did not name any condition for these photos.",
    "advice_title": "<b>What to do next</b>",
    "advice_see_dermatologist_soon": (
        "🟥 <b>See a doctor soon</b>: please make an appointment with a dermatologist "
        "(skin doctor) within the next two weeks. Some of the results above are conditions "
        "that a doctor should examine."
    ),
    "advice_see_doctor": (
        "🟧 <b>See a doctor</b>: please have a doctor look at it in the next few days, "
        "especially if it is spreading, painful or you have a fever."
    ),
    "advice_self_care": (
        "🟩 <b>Watch it</b>: the most likely conditions are usually harmless. Keep an eye on it; "
        "see a doctor if it changes, spreads, does not get better in two weeks, or worries you."
    ),
    "disclaimer": (
        "⚠️ <b>This is not a diagnosis.</b> The Model Dermatology AI is not certified by the "
        "FDA or CE and can be wrong. Please see a doctor about any skin problem that worries "
        "you — <b>urgently</b> if it bleeds, grows fast, or you feel ill."
    ),
    "button_new_case": "➕ New check",
    "pending": (
        "The AI service is not answering right now. Your check is saved: you do not need to "
        "send anything again. I will send the result here automatically as soon as it works."
    ),
    "pending_result_intro": "Here is the result of the check you sent earlier.",
    "analysis_failed": (
        "Sorry, the AI service could not analyse this check. Please try again with /new, "
        "perhaps with other photos."
    ),
    "pending_dropped_no_consent": (
        "Your check that was waiting for the AI service was not sent, because you withdrew "
        "your consent. It has been discarded."
    ),
    "analysis_busy": "This check is already being analysed. The result will come here.",
    # --- fair use (bot/fairuse.py)
    "fair_use_limit_hour": (
        "You have sent {limit} checks in the last hour, the most I can take from one person so "
        "that everyone gets a turn."
    ),
    "fair_use_limit_day": (
        "You have sent {limit} checks in the last 24 hours, the most I can take from one person "
        "so that everyone gets a turn."
    ),
    "fair_use_when": "You can send the next one {when}. Thank you for understanding.",
    "fair_use_case_kept": "This check is kept: press <b>Send for analysis</b> again then.",
    "when_one_minute": "in about a minute",
    "when_minutes": "in about {minutes} minutes",
    "when_hours": "in about {hours} hours (at {time})",
    "queue_position": "🕒 Many checks are being sent right now: {place}. Your place is kept.",
    "queue_next": "you are next",
    "queue_one_ahead": "1 person is ahead of you",
    "queue_many_ahead": "{count} people are ahead of you",
    # --- commands
    "cancelled": "The check was cancelled and its photos and answers were discarded. /new starts "
    "another.",
    "nothing_to_cancel": "There is no check in progress. /new starts one.",
    "case_in_progress": "You already have a check in progress; here is where you were:",
    "history_title": "<b>Your recent checks</b>",
    "history_line": "{date} · {status} · {top}{ref}",
    "history_empty": "You have no checks yet. /new starts one.",
    "history_no_result": "no result",
    "status_completed": "done",
    "status_pending_retry": "waiting for the AI",
    "status_submitted": "being analysed",
    "status_failed": "failed",
    "status_cancelled": "cancelled",
    "status_collecting": "in progress",
    "api_status_title": "<b>AI service</b>",
    "api_status_up": "🟢 server {number}: up, {users} user(s) now{message}",
    "api_status_down": "🔴 server {number}: down ({reason})",
    "privacy": (
        "<b>Privacy</b>\n{terms}\n\n<b>Your consent</b>: {consent}\n\n"
        "/withdraw withdraws your consent (nothing more is sent). /delete erases your checks, "
        "answers and photo references kept here; the record of what you agreed to, and when, "
        "is kept as legal proof."
    ),
    "privacy_consent_none": "you have not agreed yet.",
    "privacy_consent_accepted": "you agreed on {when} (terms version {version}).",
    "privacy_consent_outdated": "you agreed to an older version of the terms; /start to review.",
    "privacy_consent_declined": "you did not agree ({when}).",
    "privacy_consent_withdrawn": "you withdrew it on {when}.",
    "withdrawn": (
        "Your consent is withdrawn. I will not send any photo of yours from now on. Checks you "
        "sent earlier stay with the Model Dermatology service. /delete erases what I keep here."
    ),
    "withdraw_nothing": "You have no consent to withdraw.",
    "delete_confirm": (
        "This erases every check, answer and photo reference I keep about you. "
        "It cannot be undone. Erase everything?"
    ),
    "delete_yes": "Yes, erase everything",
    "delete_no": "No, keep it",
    "deleted": (
        "Done: your data is erased. Only the record of your consent decisions is kept, as the "
        "law requires. Photos already sent stay with the Model Dermatology service."
    ),
    "delete_kept": "Nothing was erased.",
    # --- operators (/stats, only for ADMIN_USER_IDS)
    "stats": (
        "<b>Stats</b> (since {since})\n"
        "Cases started: {started}\n"
        "Submitted: {submitted}\n"
        "Completed: {completed}\n"
        "Failed: {failed}\n"
        "Pending now: {pending} (waiting for the AI: {parked})\n"
        "API queue: {running} running, {waiting} waiting\n\n"
        "<b>AI servers</b> (last known)\n{servers}"
    ),
    "stats_server": "{icon} {server}: {state}{detail}",
    # --- buttons that no longer apply
    "stale_button": "This button belongs to an earlier step and no longer works.",
    "busy_try_again": "One moment, please: I am still handling your previous message.",
    "idle_hint": "To start a skin check, send /new. /help explains how it works.",
    "unknown_command": "I do not know that command. /help lists what I can do.",
    "error_generic": (
        "Sorry, something went wrong on my side. What you sent so far is kept; please try "
        "again in a moment."
    ),
}


def text(key: str, /, **values: Any) -> str:
    """The message `key`, with `values` HTML-escaped (strings) and formatted in."""
    template = MESSAGES[key]
    if not values:
        return template
    return template.format(**{k: _escape(v) for k, v in values.items()})


def raw(key: str, /, **values: Any) -> str:
    """Like `text`, for values that are already safe HTML built from other messages."""
    return MESSAGES[key].format(**values)


def _escape(value: Any) -> Any:
    return html.escape(value, quote=False) if isinstance(value, str) else value
