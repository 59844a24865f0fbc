"""The demo: Peru's partnership told through its evaluations, built through the real importer.

Lives beside the package, not in it: ``mel demo`` runs it from a checkout.
"""
