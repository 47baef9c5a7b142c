"""Experiments: the variant each conversation runs with, chosen per person and kept."""

from application.experiments.conversation_experiments import ConversationExperiments

__all__ = ("ConversationExperiments",)
