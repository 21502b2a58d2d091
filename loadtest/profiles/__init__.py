"""Target profiles: judge any session service, not only one that speaks our contract.

A profile (a TOML file, ``docs/profiles.md``) tells the harness how to talk to a service
(where the session id travels, how a query is sent, how a new chat is made) and what its
answers can prove (``evidence``): which selectors pick the session, the turn, the follow-up
flag, the items and their subjects, the text. ``load_profile`` reads a built-in name or a
file; ``exchange_for`` gives the exchange a ``VirtualUser`` talks through. Our own chat page
is the built-in gradio profile ``beatdebate-chat-page`` (``chat_page_profile``).
"""

from loadtest.profiles.exchange import ProfileExchange as ProfileExchange
from loadtest.profiles.exchange import exchange_for as exchange_for
from loadtest.profiles.gradio import GradioExchange as GradioExchange
from loadtest.profiles.gradio import GradioTransport as GradioTransport
from loadtest.profiles.gradio import gradio_factory as gradio_factory
from loadtest.profiles.load import CHAT_PAGE_PROFILE as CHAT_PAGE_PROFILE
from loadtest.profiles.load import PROPERTY_NAMES as PROPERTY_NAMES
from loadtest.profiles.load import ProfileError as ProfileError
from loadtest.profiles.load import builtin_profile_names as builtin_profile_names
from loadtest.profiles.load import chat_page_profile as chat_page_profile
from loadtest.profiles.load import contract_profile as contract_profile
from loadtest.profiles.load import load_profile as load_profile
from loadtest.profiles.load import parse_profile as parse_profile
from loadtest.profiles.model import CONTRACT_EVIDENCE as CONTRACT_EVIDENCE
from loadtest.profiles.model import EVIDENCE as EVIDENCE
from loadtest.profiles.model import Evidence as Evidence
from loadtest.profiles.model import Profile as Profile
from loadtest.profiles.model import evidence as evidence
from loadtest.profiles.policy import allowed_properties as allowed_properties
from loadtest.profiles.policy import check_property_names as check_property_names
from loadtest.profiles.policy import default_scenarios as default_scenarios
from loadtest.profiles.selector import Selector as Selector
from loadtest.profiles.selector import SelectorError as SelectorError
from loadtest.profiles.selector import compile_selector as compile_selector

__all__ = [
    "CHAT_PAGE_PROFILE", "CONTRACT_EVIDENCE", "EVIDENCE", "PROPERTY_NAMES", "Evidence", "GradioExchange",
    "GradioTransport", "Profile", "ProfileError", "ProfileExchange", "Selector", "SelectorError",
    "allowed_properties", "builtin_profile_names", "chat_page_profile", "check_property_names",
    "compile_selector", "contract_profile", "default_scenarios", "evidence", "exchange_for", "gradio_factory",
    "load_profile", "parse_profile",
]
