"""The tone API ingestion calls on every post (METRICS.md §6)."""
from __future__ import annotations

from socialfeed.tone import ANALYSER_ID, analyse, categorise, is_complaint, label_for_score


def test_it_reads_french_negation_as_negative():
    assert analyse("ça ne marche pas").label == "negative"
    assert analyse("pas terrible").label == "negative"
    assert analyse("ça ne marche pas").lang == "fr"


def test_it_reads_emoji_only_posts():
    assert analyse("😡😡😡").label == "negative"
    assert analyse("👍").label == "positive"


def test_it_scores_empty_and_very_long_posts_without_failing():
    empty = analyse("")
    assert (empty.score, empty.label, empty.lang) == (0.0, "neutral", "")
    long = analyse("My flight was cancelled and nobody answers the phone. " * 500)
    assert long.label == "negative" and -1.0 <= long.score <= 1.0


def test_it_handles_mixed_language_posts():
    result = analyse("Merci pour rien, the wifi is down again et toujours rien depuis ce matin")
    assert result.label == "negative"
    assert result.lang in ("fr", "en", "")


def test_it_scores_unsupported_languages_neutral_instead_of_guessing():
    result = analyse("el servicio es muy malo y no funciona nada, estoy harto")
    assert result.lang == "es" and result.label == "neutral"


def test_it_labels_scores_by_the_metrics_band():
    assert label_for_score(-0.06) == "negative"
    assert label_for_score(0.05) == "neutral"
    assert label_for_score(0.051) == "positive"
    result = analyse("Thank you so much, great service!")
    assert result.label == label_for_score(result.score) == "positive"


def test_it_stores_the_analyser_with_its_version():
    result = analyse("delayed again")
    assert result.analyser == ANALYSER_ID == f"hotline-linear/{result.version}"


def test_it_detects_complaints_in_english_and_french():
    assert is_complaint("the app is down for everyone", label="neutral")
    assert is_complaint("no signal since this morning", label="neutral")
    assert is_complaint("panne fibre à Lyon, toujours rien", label="neutral", lang="fr")
    assert is_complaint("la box ne marche pas", label="neutral", lang="fr")
    assert is_complaint("worst airline ever", label="negative")
    assert not is_complaint("download the new app, I love it", label="positive")
    assert not is_complaint("joli panneau solaire", label="neutral", lang="fr")


def test_it_categorises_clear_official_posts():
    assert categorise("We're sorry to hear that, please DM us your order number") == "apology"
    assert categorise("We are aware of an outage affecting customers in Leeds; engineers are working on it") == "status_update"
    assert categorise("Une rupture de fibre engendre une interruption de service, une équipe est sur place") == "status_update"
    assert categorise("Try restarting your router by unplugging it for 30 seconds") == "workaround"
    assert categorise("The issue has now been resolved, thanks for your patience") == "resolution"
    assert categorise("Le service est de nouveau disponible, tout est rentré dans l'ordre") == "resolution"
    assert categorise("Découvrez la nouvelle offre Freebox, 9,99 €/mois pendant un an !") == "promotional"
    assert categorise("Hi there, what is your account email?") == "other"


def test_it_reads_incident_news_behind_an_apology_and_workarounds_given_as_articles():
    # The shapes the held-out official posts showed the first rules missing.
    assert categorise("So sorry! We're experiencing some issues with our website, more soon") == "status_update"
    assert categorise("Apologies for this. There is a signal fault at Crewe under investigation.") == "status_update"
    assert categorise("Nous rencontrons actuellement des difficultés sur le réseau mobile") == "status_update"
    assert categorise("This article has some steps to try when you see No Service: https://example.com") == "workaround"
    assert categorise("Have you tried using a different browser?") == "workaround"
    assert categorise("Hi, sorry to see this. Feel free to DM us if you'd like to discuss it further.") == "apology"
    assert categorise("We are actively working to resolve server issues now, are you still seeing this?") == "status_update"
    assert categorise("Updates on those issues can be found here: https://example.com/status") == "status_update"
    assert categorise("Please activate Do Not Disturb on your line and these messages will stop") == "workaround"
    assert categorise("Go to Settings > Cellular > Reset network settings") == "workaround"
    assert categorise("I regret the delay. Please DM us your account email.") == "apology"
    # Asking for details is still support, not a workaround or news, even when it names a settings screen.
    assert categorise("Which iOS version are you using, and has this happened before?") == "other"
    assert categorise("Which iOS version is showing in Settings > General > About?") == "other"
    assert categorise("That's not the experience we want for you! DM us your full name and email.") == "other"
