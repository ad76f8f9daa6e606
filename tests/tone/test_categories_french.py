"""Official posts in French (METRICS.md §6 category): promotions are read as promotions, even when they name SMS or
look like a step to take, and a fix that has not happened is no resolution."""
from __future__ import annotations

import pytest

from socialfeed.tone import categorise


@pytest.mark.parametrize("text", [
    # The promotions of the story Hotline was made from: they must neither acknowledge the outage nor break the
    # silence (METRICS.md §5).
    "Nouveau : Facebook par SMS ! Envoyez FB au 3232 et recevez vos notifications par texto, gratuit ce mois-ci",
    "Nouveau : Facebook par SMS ! Mettez à jour votre statut par simple SMS au 3232, gratuit ce mois-ci",
    "Gagnez vos places pour le concert de Nadia Rivière samedi à Lyon ! RT + follow pour participer",
    "Rechargez 10 € et recevez 5 € de bonus, profitez-en jusqu'à dimanche !",
    "Profitez de Facebook par SMS : envoyez un SMS au 3232 pour essayer, c'est gratuit !",
    "Encore des travaux, toujours des travaux. La box au prix mythique de 29,99€/mois, c'est dispo",
    "Jeu concours : tentez de gagner un séjour à Marrakech, tirage au sort vendredi",
])
def test_it_reads_french_promotions_as_promotional(text):
    assert categorise(text) == "promotional"


@pytest.mark.parametrize("text, category", [
    # An outage or a customer's case in the post: the outage checks come first, as before.
    ("Toutes nos excuses pour la panne : en attendant, profitez de l'appel Wi-Fi pour vos SMS", "apology"),
    ("Une coupure de fibre perturbe le service à Cergy, nos équipes sont sur place. Jeu concours reporté.",
     "status_update"),
    ("Geste commercial : 5 Go offerts à tous les clients touchés par la panne, pour nous faire pardonner.",
     "apology"),
    # A support answer that mentions an offer is support, never marketing.
    ("Bonjour, retrouvez-moi sur Messenger pour discuter de nos offres avec plaisir !", "other"),
])
def test_it_keeps_outage_and_support_posts_out_of_promotions(text, category):
    assert categorise(text) == category


def test_a_fix_that_has_not_happened_is_no_resolution():
    assert categorise("Si vos services ne sont pas rétablis, contactez-nous sur Messenger") != "resolution"
    assert categorise("Nous avons rencontré des perturbations en fin de journée. Si toutefois vos services "
                      "n'étaient pas rétablis, contactez-nous") == "status_update"
    assert categorise("L'anomalie est corrigée et tout doit fonctionner. Si toutefois vos services ne sont pas "
                      "rétablis, contactez-nous") == "resolution"
    assert categorise("The outage has not been fixed yet, engineers are on site") == "status_update"


@pytest.mark.parametrize("text", [
    "Point incident : un correctif est en cours de déploiement, retour progressif de la messagerie.",
    "Point incident : la cause est identifiée (serveur de routage des SMS).",
    "Update: the fix is rolling out; messaging is back for 60% of customers.",
])
def test_it_reads_incident_news_as_a_status_update(text):
    assert categorise(text) == "status_update"
