"""Every sentence the bot says to a person, keyed by a message id: the English source catalog.

Handlers never hold person-facing literals: they name a message id here and pass values. Texts are
Telegram HTML (the bot's default parse mode), so values are escaped by `text()` before they are
put in. `text()` speaks the language of the current update (`bot.i18n.current_language`);
`text_in()` names the language.

Translations are gettext catalogs, bot/locale/<lang>/LC_MESSAGES/messages.po, whose msgctxt is
the message id and whose msgid is the English text below. To add a message: add it here (or to
PLURALS when it counts something), then run the `pybabel extract` and `pybabel update` commands
of docs/languages.md, translate the new entries in every .po file, and run the
tests (tests/test_i18n_catalogs.py fails while any language lacks it or a placeholder differs).
"""

from __future__ import annotations

import html
from typing import Any

from bot.i18n import DEFAULT_LANGUAGE, current_language
from bot.i18n.catalogs import translations

MESSAGES: dict[str, str] = {
    # --- welcome, help
    # At most three short lines: the terms follow in the same message, folded.
    "welcome": (
        "👋 <b>Hello!</b> Send me photos of a skin problem: the Model Dermatology AI lists what "
        "it most likely is, and I tell you what to do next.\n"
        "I am <b>not a doctor</b> and this is <b>not a diagnosis</b> (the AI is not certified "
        "by the FDA or CE).\n"
        "How your photos are used (tap to read it all):"
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
        "/history – your checks (/history CODE: one patient's)\n"
        "/export – your checks as a file for a spreadsheet\n"
        "/reminders – your follow-up reminders\n"
        "/privacy – what happens to your photos, your consent\n"
        "/withdraw – withdraw your consent\n"
        "/delete – erase everything I keep about you\n"
        "/status – is the AI service up?\n"
        "/language – change the language\n"
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
    "consent_accepted": "Agreed ✓, recorded on {date}.",
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
    # "Next patient" under the result of someone else's check: the code first, then permission.
    "next_patient_button": "👥 Next patient",
    "next_patient_title": "👥 <b>Next patient</b>",
    "next_patient_question": (
        "Type this patient's code (for example PT-0418), so you can find the check later in "
        "/history. It stays here and is never sent to the AI. Do not type their name."
    ),
    "next_patient_code": "Patient code: <b>{value}</b>",
    "next_patient_code_change": "To correct it, type it again.",
    "next_patient_permission": (
        "Photos of someone else may be sent only with their agreement, or their guardian's. "
        "Press the button once they agreed; then send the photos."
    ),
    "next_patient_agreed": "✅ They (or their guardian) agreed",
    "next_patient_invalid": (
        "Please type a short code of at most {max} characters, or press the button to go on "
        "without one."
    ),
    "next_patient_open": (
        "The next patient's check is open already: type their code, or press the button."
    ),
    # --- photos
    "photos_request": (
        "📷 Now send 1 to 5 photos of the skin problem.\n"
        "• One close-up and one from further away\n"
        "• Good daylight, in focus, the problem in the centre\n"
        "• No rulers, pen marks or filters\n"
        "You can send them one by one or as an album."
    ),
    "photos_full": "{max} photos received, the most I can use. Press <b>Done</b> to continue.",
    # Above the acknowledgement, which then says "5 photos received ... Press Done".
    "photo_sixth_refused": "This one was not kept: I can use at most {max} photos.",
    "photos_none_yet": "Please send at least one photo of the skin problem first.",
    "photo_warning": "Photo {number} {problems}. Keep it, or replace it with a better one?",
    "photo_warning_blurry": "looks blurry",
    "photo_warning_dark": "looks too dark",
    "photo_warning_overexposed": "looks too bright",
    "photo_warning_small": "is quite small",
    "photo_keep": "Keep photo {number}",
    "photo_replace": "Replace photo {number}",
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
    "photo_not_saved": (
        "Sorry, this photo was not saved: my storage is busy just now. Please send it again in a "
        "moment. The photos I already confirmed are kept."
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
    "q_birth_year_own": "What is your <b>year of birth</b>? Type it, for example 1984.",
    "q_birth_year_invalid": (
        "Please type a year between {oldest} and {youngest}, for example 1984, or press "
        "<b>Skip</b>."
    ),
    "q_sex": "What is their <b>sex</b>?",
    "q_sex_own": "What is your <b>sex</b>?",
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
    # Kept for the advice, never sent to the API (bot/domain/questionnaire.py RecentChange).
    "q_change": "<b>Has it changed lately?</b>",
    "q_change_bleeds": "It bleeds",
    "q_change_grew_or_changed": "It grew or changed shape or colour",
    "q_change_no_change": "No change",
    "button_skip": "Skip",
    "use_buttons": "Please choose one of the buttons below (or press <b>Skip</b>).",
    "text_at_photos": "Please send a photo, or press <b>Done</b> when you have sent them all.",
    # Typed before any photo: there is no Done button yet.
    "text_before_photos": "Please send a photo of the skin problem (a typed text cannot be used).",
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
    "label_recent_change": "Changed lately",
    "summary_skipped": "not given",
    "summary_send_note": (
        "When you press <b>Send for analysis</b>, the photos and answers (not the reference, "
        "not your name) go to the Model Dermatology service."
    ),
    "button_send": "📤 Send for analysis",
    "button_change": "✏️ Change an answer",
    "button_cancel": "✖️ Cancel",
    "button_back": "↩️ Back",
    "intimate_confirm_title": (
        "<b>These photos show an intimate area.</b> Before I send them, please confirm:"
    ),
    "intimate_confirm_api": (
        "• They go to the Model Dermatology service, which keeps every photo it receives and "
        "uses it to train its AI."
    ),
    "intimate_confirm_clinic": (
        "• The clinic's clinicians see them in the clinic's private Telegram group."
    ),
    "intimate_confirm_adult": "• The person in the photos is 18 or older.",
    "intimate_confirm_adult_own": "• You are 18 or older.",
    "intimate_confirm_question": "Send them?",
    "intimate_confirm_send": "✅ Yes, send",
    "intimate_confirm_change_site": "✏️ Change the body site",
    "intimate_child_refused": (
        "💛 I do not send photos of an intimate area when the person may be under 18 (judging "
        "by the year of birth): the AI service keeps every photo it receives. Nothing was sent, "
        "and this check has been discarded.\n\n"
        "Please show it to a doctor or nurse in person: they can examine it properly and say "
        "what to do. Go soon if it hurts, bleeds, or comes with a fever.\n\n"
        "/new starts another check, for example of another part of the body."
    ),
    "change_which": "Which answer do you want to change?",
    "change_photos": "Photos",
    "label_reference": "Reference",
    # The answers so far, above the current question: "✓ Someone else's: PT-7 · ✓ 2 photos".
    "header_reference": "{whose}: {value}",
    # --- analysis and result
    # The result (bot/views/result.py), top to bottom. Its one header line:
    "result_title": "<b>AI estimate</b> (check {case}) · {date}",
    # ... with the patient code a field worker typed for someone else's skin.
    "result_title_patient": "<b>AI estimate</b> (check {case}) · {date} · {patient}",
    # The headline: what to do and how soon ({action}: one of advice_<tier>), and why ({why}:
    # one of advice_why_*, a clause that follows a colon).
    "advice_because": "{action}: {why}.",
    "advice_alone": "{action}.",
    "advice_urgent_care": "<b>Get urgent care now</b>",
    "advice_within_days": "<b>See a doctor within a few days</b>",
    "advice_within_2_weeks": "<b>See a dermatologist (skin doctor) within 2 weeks</b>",
    "advice_if_no_improvement": "<b>See a doctor if it is not better in 2 to 4 weeks</b>",
    "advice_self_care": "<b>Look after it yourself and watch it</b>",
    "advice_why_emergency": "the AI's matches include a condition that can be an emergency",
    "advice_why_needs_treatment": (
        "the AI's matches include an infection or another condition that needs treatment"
    ),
    "advice_why_possible_cancer": (
        "the AI found signs that need a doctor's look (possible skin cancer or pre-cancer)"
    ),
    "advice_why_malignancy_output": (
        "the AI's own signal for skin cancer was high for these photos"
    ),
    "advice_why_changed": "you said it has changed lately",
    "advice_why_changed_bleeds": "you said it bleeds",
    "advice_why_changed_grew_or_changed": "you said it grew or changed shape or colour",
    "advice_why_severe_pain": "you said it hurts badly",
    "advice_why_recent_severe": "it started less than a week ago and itches or hurts badly",
    "advice_why_see_if_persists": (
        "the AI's closest matches are usually looked after at home, but a doctor should see them "
        "if they last"
    ),
    "advice_why_unsure": "the AI is unsure what this is (its best match score is low)",
    "advice_why_nonspecific": (
        "the AI recognised no specific condition, which does not mean the skin is healthy"
    ),
    "advice_why_nothing_named": "the AI named no condition for these photos",
    # Self-care is the tier no rule asks for: say so without calling anything harmless.
    "advice_why_none_above": "none of the AI's closest matches usually needs a doctor",
    # Further reasons after the headline ({reasons}: advice_why_* joined by the separator).
    "advice_also": "Also: {reasons}.",
    "advice_also_separator": "; ",
    # What to do now, under the headline.
    "advice_next_urgent_care": (
        "Go to an emergency department or an urgent care clinic now; do not wait for an "
        "appointment."
    ),
    "advice_next_within_days": "Contact a doctor or clinic today, and show them this message.",
    "advice_next_within_2_weeks": "Book the appointment now, and show this message to the doctor.",
    "advice_next_if_no_improvement": "Go sooner if it changes, bleeds or spreads.",
    "advice_next_self_care": (
        "See a doctor if it changes, bleeds or spreads, is not better in 2 to 4 weeks, or "
        "worries you."
    ),
    # How far to trust the AI this time, one line each.
    "result_unsure": "The AI is unsure: its best match score is low, so its matches may be wrong.",
    "result_nonspecific": (
        "The AI's answer includes “No specific condition recognised”: this does not mean the "
        "skin is healthy."
    ),
    "result_caveat_dark_skin": "The AI has been tested less on dark skin.",
    "result_caveat_minor": "The AI may be less reliable for children and teenagers.",
    "result_caveat_one_photo": (
        "Only one photo: with two or three (a close-up and one from further away) the AI has "
        "more to go on."
    ),
    "result_intro": "<b>The AI's closest matches</b> (AI match score):",
    "result_line": "{rank}. {name} — {percent}",
    "result_score_note": (
        "<i>A match score is not the chance of having it: the AI's first match is right about 4 "
        "times in 10, one of its first three about 2 times in 3.</i>"
    ),
    "result_nothing": "The AI did not name any condition for these photos.",
    "result_links": "Tap a name to read about it.",
    # A condition name the bot has no entry for, as the AI wrote it (cleaned, cut short).
    "result_ai_label": "“{name}”",
    "result_ai_labels": "A name in quotation marks is the AI's own label, as the AI wrote it.",
    "redflags": (
        "🚑 <b>Go to urgent care now</b> if there is fever or feeling unwell, fast-spreading "
        "redness, blistering or peeling skin, a sore mouth or eyes, swollen lips or trouble "
        "breathing."
    ),
    # The one disclaimer of a check (the welcome has its own line, the card one in its picture).
    "disclaimer": (
        "⚠️ <b>Not a diagnosis</b>: the AI is not certified by the FDA or CE and can be wrong."
    ),
    "button_new_case": "➕ New check",
    # --- follow-up reminders under a result (bot/conversation/follow_up.py); `after` is a
    # reminder_weeks/days/hours/minutes
    "reminder_offer": "📅 Remind me in {after}",
    "reminder_set": "✅ Reminder: {date}",
    "reminder_cancel": "✖️ Cancel it",
    # Short notes shown on a button press (at most 200 characters).
    "reminder_set_note": "I will remind you on {when} to check it again. /reminders lists them.",
    "reminder_cancelled": "Reminder cancelled.",
    "reminder_not_pending": "That reminder is no longer waiting: it was sent or cancelled.",
    "follow_up_gone_note": "That check is no longer stored, so I cannot remind you of it.",
    # The reminder itself: a shared phone's lock screen shows it, so it names no condition.
    "reminder_message": (
        "📅 <b>Time for a follow-up.</b> You asked me to remind you to look at your skin again "
        "after your check of {date}.\n\n"
        "Press the button to take new photos of the same spot: I will set the new result beside "
        "the earlier one."
    ),
    "reminder_check_again": "🔁 Check it again",
    "follow_up_intro": (
        "🔁 <b>Follow-up</b> of your check of {date}. I kept the answers that stay the same. "
        "Please photograph the same spot as last time, from a similar distance and in similar "
        "light."
    ),
    "follow_up_gone": (
        "That check is no longer stored (it was deleted, or its time to be kept ended), so there "
        "is nothing to compare with. You can start a new check."
    ),
    "follow_up_finish_first": (
        "You have another check in progress. Please finish it (or /cancel it) first, then press "
        "<b>Check it again</b> once more. Here is where you were:"
    ),
    # --- a follow-up's result beside the earlier check (bot/views/follow_up.py). A lower tier
    # is never "better": the AI sees photos, not healing.
    "follow_up_side_by_side": "🔁 {date}: {before} · today: {now}",
    "follow_up_tier_urgent_care": "Urgent care now",
    "follow_up_tier_within_days": "See a doctor within days",
    "follow_up_tier_within_2_weeks": "See a doctor within 2 weeks",
    "follow_up_tier_if_no_improvement": "See a doctor if it does not improve",
    "follow_up_tier_self_care": "Watch it",
    "follow_up_same_advice": "The advice is the same as last time.",
    "follow_up_less_urgent": (
        "The advice is less urgent than last time. The AI only sees photos, so this does not "
        "show that it has healed: keep watching it."
    ),
    "follow_up_more_urgent": "⚠️ <b>The advice is more urgent than last time.</b>",
    "follow_up_bleeds": "⚠️ <b>You said it bleeds.</b>",
    "follow_up_grew_or_changed": "⚠️ <b>You said it grew or changed shape or colour.</b>",
    "follow_up_itch_worse": "⚠️ You said it itches more than last time.",
    "follow_up_pain_worse": "⚠️ You said it hurts more than last time.",
    # --- result card (the picture sent after the text result; drawn with the card's font, so
    # no emoji here)
    "card_title": "Possible matches (AI match score)",
    "card_nothing": "The AI did not name any condition for this photo.",
    # A condition name the bot has no entry for, as the AI wrote it (cleaned, cut short).
    "card_ai_label": "“{name}”",
    "card_tier_urgent_care": "Get urgent care now",
    "card_tier_within_2_weeks": "See a dermatologist within 2 weeks",
    "card_tier_within_days": "See a doctor within a few days",
    "card_tier_if_no_improvement": "See a doctor if it is no better in 2 to 4 weeks",
    "card_tier_self_care": "Self-care: keep an eye on it",
    "card_disclaimer": (
        "Not a diagnosis. The AI is not certified by the FDA or CE and can be wrong."
    ),
    "card_footer": "{date} · check {case}",
    "card_footer_patient": "{date} · check {case} · patient {patient}",
    "card_caption": "The result above as a picture: check {case} of {date}.",
    "card_caption_patient": (
        "The result above as a picture: check {case} of {date}, patient {patient}."
    ),
    "pending": (
        "The AI service is not answering right now. Your check is saved: you do not need to "
        "send anything again. I will send the result here automatically as soon as it works."
    ),
    "pending_result_intro": "Here is the result of the check you sent earlier.",
    "result_ready": "🔔 Your result has come: tap the quoted message above to see it.",
    "analysis_failed": (
        "Sorry, the AI service could not analyse this check. Please try again with /new, "
        "perhaps with other photos."
    ),
    "analysis_unreadable": (
        "Sorry, the AI service answered this check several times with something I could not "
        "read. Nothing is wrong with your photos. You can try this check again, or start a new "
        "one."
    ),
    "button_try_again": "🔁 Try again",
    "analysis_stopped": "✖️ Stopped: no result will come for this check.",
    "pending_dropped_no_consent": (
        "Your check that was waiting for the AI service was not sent, because you withdrew "
        "your consent. It has been discarded."
    ),
    "analysis_busy": "This check is already being analysed. The result will come here.",
    # --- fair use (bot/services/api_queue.py)
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
    # /history: a page of the sender's checks, each opening its details (bot/views/history.py)
    "history_title": "<b>Your checks</b>, newest first ({first}–{last} of {total})",
    "history_title_code": (
        "<b>Your checks for {code}</b>, newest first ({first}–{last} of {total})"
    ),
    "history_line": "{number}. {line}",
    "history_open_hint": "Press a number to see that check in full.",
    "history_newer": "◀️ Newer",
    "history_older": "Older ▶️",
    "history_empty": "You have no checks yet. /new starts one.",
    "history_empty_code": (
        "You have no checks with the patient code {code}. /history lists them all."
    ),
    "history_code_invalid": (
        "A patient code is at most 24 characters long. Send /history alone to see all your checks."
    ),
    "history_changed": "Your list has changed since this message: here it is as it is now.",
    # The advice the check was given ({advice}: one of advice_<tier>, bold).
    "history_advice": "What to do: {advice}",
    "history_no_result": "no condition named",
    "history_ai_label": "“{name}” (the AI's own label)",
    "history_check_title": "<b>Check {case}</b>",
    "history_check_state": "State: {state}",
    "history_answers": "<b>Answers</b>",
    "history_conditions": (
        "<b>Possible conditions</b> (AI match score: how closely the photos match)"
    ),
    "history_condition": "{rank}. {name} — AI match score {score}",
    "history_clinic_decision": "<b>The clinic's decision</b>: {decision}",
    "history_back": "⬅️ Back to the list",
    # /export: the sender's checks as a CSV file (bot/conversation/export.py)
    "export_confirm": (
        "I can send you a file (CSV, for a spreadsheet) with all your checks: patient codes, "
        "dates, answers, advice, the top three conditions and the clinic's decisions.\n\n"
        "<b>The file is yours to keep safe.</b> It holds health information: keep it only where "
        "nobody else can open it. Once it is sent, /delete and the time I keep checks cannot "
        "erase it."
    ),
    "export_protected": (
        "This service protects results: the file can be opened in Telegram, but not forwarded "
        "or saved."
    ),
    "export_yes": "📄 Send me the file",
    "export_no": "No, not now",
    "export_cancelled": "Nothing was sent.",
    "export_nothing": "You have no checks to put in a file yet. /new starts one.",
    "export_sending": "Here is the file with your checks. Keep it safe.",
    "export_answered": "This question is answered already.",
    "export_caption": "Your checks (CSV). Keep this file safe: /delete cannot erase it.",
    "export_failed": "Sorry, the file could not be sent just now. Please send /export again later.",
    "export_column_code": "Patient code",
    "export_column_date": "Date",
    "export_column_check": "Check",
    "export_column_state": "State",
    "export_column_advice": "Advice",
    "export_column_condition": "Condition {n}",
    "export_column_score": "AI match score {n} (%)",
    "export_column_clinic": "Clinic's decision",
    "reminders_title": "<b>Your follow-up reminders</b>",
    "reminders_line": "{number}. {when} · for your check of {date}{ref}",
    "reminders_empty": (
        "You have no reminders waiting. A result that says to watch a spot offers one."
    ),
    "reminders_cancel": "✖️ Cancel {number}",
    "status_completed": "done",
    "status_pending_retry": "waiting for the AI",
    "status_submitted": "being analysed",
    "status_failed": "failed",
    "status_cancelled": "cancelled",
    "status_undelivered": "could not be delivered",
    "status_collecting": "in progress",
    "api_status_title": "<b>AI service</b>",
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
    "withdraw_on_the_way": (
        "A check already on its way to the AI service may still bring its result here. Nothing "
        "more will be sent."
    ),
    "withdraw_nothing": "You have no consent to withdraw.",
    "withdraw_confirm": (
        "Withdraw your consent? From then on I send no photo of yours, and a check waiting to "
        "be sent is cancelled."
    ),
    "withdraw_yes": "Yes, withdraw",
    "withdraw_no": "No, keep it",
    "withdraw_kept": "Your consent stays as it was.",
    "delete_confirm": (
        "This erases every check, answer and photo reference I keep about you. "
        "It cannot be undone. For fair use, an anonymous count of the checks you sent in the "
        "last 24 hours stays, and is deleted after 24 hours. Erase everything?"
    ),
    "delete_yes": "Yes, erase everything",
    "delete_no": "No, keep it",
    "deleted": (
        "Done: your data is erased. Only the record of your consent decisions is kept, as the "
        "law requires, and for 24 hours an anonymous count of the checks you sent, for fair use. "
        "Photos already sent stay with the Model Dermatology service."
    ),
    "deleted_clinic_copies": (
        "I am also deleting your checks from the clinic's group. If Telegram does not let me "
        "delete something there, I will tell you."
    ),
    "clinic_copy_stays_erased": (
        "The clinic's group still has part of your check {case} (photos or messages) that "
        "Telegram did not let me delete: a bot can delete only its own messages there, and only "
        "for 48 hours."
    ),
    "clinic_copy_stays_expired": (
        "Your check {case} has been deleted from this bot, because it was older than the time I "
        "keep checks. The clinic's group still has part of it (photos or messages) that Telegram "
        "did not let me delete: a bot can delete only its own messages there, and only for 48 "
        "hours."
    ),
    "clinic_copy_asked": "I have asked the clinic to delete it.",
    "clinic_copy_ask_them": (
        "I could not reach the clinic's group to ask for this, so please ask the clinic to "
        "delete it."
    ),
    "delete_on_the_way": (
        "A check that was already on its way to the AI service was stopped: its result will not "
        "come here."
    ),
    "delete_kept": "Nothing was erased.",
    # --- language
    "language_choose": "Which language should I use?",
    "language_set": "Done: from now on I will write to you in English.",
    # --- command descriptions in Telegram's menu (short, no HTML)
    "command_new": "start a new skin check",
    "command_cancel": "stop and discard the current check",
    "command_history": "your checks, or /history CODE for one patient",
    "command_export": "your checks as a file",
    "command_reminders": "your follow-up reminders",
    "command_privacy": "what happens to your photos",
    "command_withdraw": "withdraw your consent",
    "command_delete": "erase your data",
    "command_status": "is the AI service up?",
    "command_language": "change the language",
    "command_help": "how it works",
    # --- triage by the clinic (bot/services/triage_desk.py): to the person
    "triage_result_note": (
        "👩‍⚕️ A clinician of the clinic will also look at this check and tell you here what "
        "to do next."
    ),
    # A clinician's decision, one per tier of the scale (bot/db/models.py TriageDecisionKind):
    # each says what to do and by when.
    "triage_to_person_urgent_care": (
        "👩‍⚕️ <b>The clinic has looked at your check {case}.</b>\n\n"
        "A clinician asks you to <b>get urgent care now</b>: please go to an emergency department "
        "or urgent care today, without waiting for an appointment, and mention check {case}."
    ),
    "triage_to_person_within_days": (
        "👩‍⚕️ <b>The clinic has looked at your check {case}.</b>\n\n"
        "A clinician asks you to <b>see a doctor within the next few days</b>: please contact the "
        "clinic or your doctor today for an appointment in the next 2 to 3 days, and mention "
        "check {case}. If it spreads fast, or you get a fever or feel unwell, go to urgent care "
        "at once."
    ),
    "triage_to_person_within_2_weeks": (
        "👩‍⚕️ <b>The clinic has looked at your check {case}.</b>\n\n"
        "A clinician asks you to be <b>seen within 2 weeks</b>: please contact the clinic or a "
        "dermatologist today for an appointment in the next two weeks, and mention check {case}. "
        "If it bleeds, grows fast or you feel ill, go at once."
    ),
    "triage_to_person_if_no_improvement": (
        "👩‍⚕️ <b>The clinic has looked at your check {case}.</b>\n\n"
        "A clinician advises <b>care at home for now</b>: no appointment is needed yet. If it is "
        "not better in 2 to 4 weeks, please book an appointment with the clinic or your doctor "
        "and mention check {case}; go sooner if it changes, spreads or bleeds."
    ),
    "triage_to_person_self_care": (
        "👩‍⚕️ <b>The clinic has looked at your check {case}.</b>\n\n"
        "A clinician advises <b>self-care</b>: no appointment is needed. Keep an eye on it, and "
        "see a doctor if it changes, spreads, bleeds or worries you."
    ),
    "triage_to_person_better_photos": (
        "👩‍⚕️ <b>The clinic needs better photos of your check {case}</b> to decide.\n\n"
        "Press the button below, then send 1 to 5 new photos: in focus, in good daylight, one "
        "close-up and one from further away. Your answers are kept; the photos and answers go "
        "to the AI and the clinic again."
    ),
    "triage_changed_prefix": "The clinic has changed its advice.",
    "triage_button_new_photos": "📷 Send new photos",
    "triage_reopened": "Please send the new photos now, then press <b>Done</b>.",
    "triage_reopen_busy": (
        "You have another check in progress. Finish it, or /cancel it, then press "
        "<b>Send new photos</b> again."
    ),
    "triage_from_clinic": (
        "💬 <b>Message from the clinic</b> about check {case}:\n\n{body}\n\n"
        "<i>To answer, reply to this message (swipe left on it, or press and hold it and "
        "choose Reply).</i>"
    ),
    "triage_sent_to_clinic": "Sent to the clinic.",
    # --- triage by the clinic: in the clinicians' group
    "triage_card_title": "🩺 <b>Case {case}</b>",
    "triage_card_round": " · new photos (round {round})",
    "triage_card_line": "{label}: {value}",
    "triage_label_age": "Age",
    "triage_label_whose": "Whose skin",
    "triage_whose_own": "the sender's own",
    "triage_whose_other": "someone else's (the sender says they agreed)",
    "triage_label_photos": "Photos",
    "triage_ai_title": "<b>AI (Model Dermatology, not certified)</b>",
    "triage_ai_line": "{rank}. {name} — {percent}",
    "triage_ai_none": "no condition named",
    "triage_ai_malignancy": "Malignancy output (raw, scale not published): {value}",
    "triage_ai_tier": "Bot's advice to the person: {tier}",
    "triage_ai_reasons": "because: {reasons}",
    # The advice rules (bot/domain/advice.py RULES) as the clinicians' card names them.
    "advice_rule_emergency": "an emergency condition",
    "advice_rule_needs_treatment": "an infection or condition that needs treatment",
    "advice_rule_possible_cancer": "possible skin cancer or pre-cancer",
    "advice_rule_malignancy_output": "high malignancy output",
    "advice_rule_changed": "the person says it bleeds or grew or changed",
    "advice_rule_severe_pain": "severe pain",
    "advice_rule_recent_severe": "under a week, with severe itch or pain",
    "advice_rule_see_if_persists": "usually treated at home; a doctor if it persists",
    "advice_rule_unsure": "the AI is unsure (low top match score)",
    "advice_rule_nonspecific": "the AI recognised nothing specific",
    "advice_rule_nothing_named": "the AI named no condition",
    "advice_rule_none_above": "none of the rules applies",
    "triage_tier_urgent_care": "🟥 urgent care now",
    "triage_tier_within_days": "🟧 see a doctor within a few days",
    "triage_tier_within_2_weeks": "🟨 see a dermatologist within 2 weeks",
    "triage_tier_if_no_improvement": "🟦 see a doctor if no better in 2-4 weeks",
    "triage_tier_self_care": "🟩 self-care and watch",
    "triage_waiting": "Sent {sent} · waiting {waited}",
    "triage_sent": "Sent {sent}",
    "triage_reply_hint": "<i>Reply to this card to write to the person.</i>",
    "triage_decided": "✅ <b>{decision}</b> — {name}, {when}{changed}",
    "triage_decided_changed": " (changed)",
    "triage_superseded": "🔁 New photos were requested; the case comes back as a new card.",
    "triage_decision_urgent_care": "🟥 Urgent care now",
    "triage_decision_within_days": "🟧 A doctor within a few days",
    "triage_decision_within_2_weeks": "🟨 A dermatologist within 2 weeks",
    "triage_decision_if_no_improvement": "🟦 A doctor if no better in 2-4 weeks",
    "triage_decision_self_care": "🟩 Self-care and watch",
    "triage_decision_better_photos": "📷 Need better photos",
    "triage_button_change": "✏️ Change decision",
    "triage_not_clinician": "Only the clinic's clinicians can decide on cases.",
    "triage_stale": (
        'Already decided meanwhile; see the card. Press "Change decision" to change it.'
    ),
    "triage_case_gone": "This case is no longer available (the person withdrew or erased it).",
    "triage_recorded": "Recorded: {decision}.",
    "triage_change_hint": "Choose the new decision.",
    "triage_queue_title": "<b>Waiting for a decision</b> (oldest first):",
    "triage_queue_line": "{rank}. Case {case} · waiting {waited} · {tier}",
    "triage_queue_unposted": " · not posted yet",
    "triage_queue_empty": "No case is waiting for a decision.",
    "triage_reminder": "⏰ Case {case} has been waiting {waited} for a decision.",
    "triage_from_person": "💬 <b>Answer from the person</b> (case {case}):\n\n{body}",
    "triage_relayed": "Sent to the person.",
    "triage_relay_failed": "Could not deliver this to the person (they may have blocked the bot).",
    "triage_relay_unknown": (
        "Reply to a case card (or to a message about a case) to write to the person."
    ),
    "triage_copy_delete_request": (
        "🗑 <b>Please delete check {case} from this group.</b> It is no longer shared with the "
        "clinic (erased by the person, consent withdrawn, or past the retention period). "
        "Telegram does not let me delete its card, photos or messages here: a bot can delete "
        "only its own messages, and only for 48 hours."
    ),
    "triage_card_removed": (
        "🗑 Check {case} is no longer shared with the clinic: its details were removed from "
        "this card."
    ),
    "triage_group_id": (
        "This group's id is <code>{group}</code>. To make it the clinic's triage group, set "
        "TRIAGE_CHAT_ID={group} in the bot's settings and restart it."
    ),
    "duration_minutes": "{minutes} min",
    "duration_hours": "{hours} h {minutes} min",
    "duration_days": "{days} d {hours} h",
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
    "edit_ignored": "I use new messages, not edits: please send it again as a new message.",
    "error_generic": (
        "Sorry, something went wrong on my side. What I confirmed to you before is kept; if I "
        "did not answer your last message, please send it again in a moment."
    ),
}


# Messages that count something: (English singular, English plural). The number is always the
# value named `count`; each language has as many forms as its plural rule needs (Korean one,
# Spanish three), chosen by gettext's ngettext.
PLURALS: dict[str, tuple[str, str]] = {
    # One acknowledgement per batch of photos, replacing the one before.
    "photos_received": (
        "{count} photo received. Send up to {more} more, or press <b>Done</b>.",
        "{count} photos received. Send up to {more} more, or press <b>Done</b>.",
    ),
    "header_photos": ("{count} photo", "{count} photos"),
    # How long until a follow-up reminder, in "Remind me in {after}".
    "reminder_weeks": ("{count} week", "{count} weeks"),
    "reminder_days": ("{count} day", "{count} days"),
    "reminder_hours": ("{count} hour", "{count} hours"),
    "reminder_minutes": ("{count} minute", "{count} minutes"),
    "analysing": (
        "⏳ Analysing your {count} photo… this usually takes under a minute.",
        "⏳ Analysing your {count} photos… this usually takes under a minute.",
    ),
    # Added to the replies of /withdraw and /delete.
    "cancelled_waiting": (
        "Your check that was waiting to be sent was cancelled: it will not be sent.",
        "Your {count} checks that were waiting to be sent were cancelled: they will not be sent.",
    ),
    "api_status_up": (
        "🟢 server {number}: up, {count} user now{message}",
        "🟢 server {number}: up, {count} users now{message}",
    ),
    # On a case card with more decisions than fit in one message: the oldest are only counted.
    "triage_earlier_decisions": (
        "… and {count} earlier decision",
        "… and {count} earlier decisions",
    ),
}


def template(key: str, language: str, count: Any = None) -> str:
    """The unformatted message `key` in `language` (English when a translation is missing)."""
    if key in PLURALS:
        singular, plural = PLURALS[key]
        if not isinstance(count, int):
            raise TypeError(f"message {key!r} counts something: pass count=<int>")
        if language == DEFAULT_LANGUAGE:
            return singular if count == 1 else plural
        return str(translations(language).npgettext(key, singular, plural, count))
    english = MESSAGES[key]
    if language == DEFAULT_LANGUAGE:
        return english
    return str(translations(language).pgettext(key, english))


def text_in(language: str, key: str, /, **values: Any) -> str:
    """The message `key` in `language`, with `values` HTML-escaped (strings) and formatted in."""
    found = template(key, language, values.get("count"))
    if not values:
        return found
    return found.format(**{k: _escape(v) for k, v in values.items()})


def raw_in(language: str, key: str, /, **values: Any) -> str:
    """Like `text_in`, for values that are already safe HTML built from other messages."""
    return template(key, language, values.get("count")).format(**values)


def text(key: str, /, **values: Any) -> str:
    """The message `key` in the current person's language, `values` HTML-escaped."""
    return text_in(current_language(), key, **values)


def raw(key: str, /, **values: Any) -> str:
    """Like `text`, for values that are already safe HTML built from other messages."""
    return raw_in(current_language(), key, **values)


def _escape(value: Any) -> Any:
    return html.escape(value, quote=False) if isinstance(value, str) else value
