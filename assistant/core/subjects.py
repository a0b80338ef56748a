"""What a message is about: a subject of its own, or the conversation's.

"up to what amount?", "why?", "what do I do now?" and "that answer is not clear" name nothing: every
word asks (a question word, an attribute such as "amount", a verb such as "do") or talks ("ok", "now").
Such a message is read with the conversation's subject: the latest earlier question that named one.
"what other tracks are there?" names a subject ("tracks") of its own, pointing word or not, and is judged
on its own words. The word lists are closed classes of English, not a domain vocabulary: any word
outside them counts as naming something.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9$%]+")


def _words(listed: str) -> frozenset[str]:
    return frozenset(listed.split())


# Function words: pronouns, determiners, auxiliaries, prepositions, conjunctions, question words,
# the pieces of contractions ("what's" -> "what", "s") and their apostrophe-less spellings ("dont").
FUNCTION = _words("""
a an the this that these those it its itself they them their there here i me my mine myself we us our you your he she him
her his what which who whom whose when where why how whether if then than so and or but nor not no yes is am are was were
be been being do does did doing done have has had having will would shall should can could may might must to of in on at by
for from with about into onto over under up down out off as just only also too very really still yet any some all each
every both either neither other another such same more most much many few lot lots bit s t ll re ve d m dont doesnt didnt
isnt arent wasnt cant wont wouldnt shouldnt couldnt isn aren wasn don doesn didn won wouldn shouldn couldn haven hasn
im ive id youre thats whats hows whys theres heres ok okay yeah yep
yup right sure well oh hmm alright please thanks thank thx hi hello hey
""")
# Words that ask about a subject without naming one: attributes (how much, how long, why), generic
# verbs, and talk about the last answer ("explain further", "not clear").
GENERIC = _words("""
fee fees cost costs charge charges charged price prices total overall amount amounts limit limits cap caps max maximum
min minimum rate rates free pay paying paid long time times day days soon wait waiting reason reasons cause come came
step steps next now happen happens happened work works worked mean means meant need needs needed want wanted get
gets got take takes took make makes go goes going expect know tell say said explain explained elaborate further clarify
clear unclear understand understood repeat rephrase answer question detail details again sense help thing things
one ones apply applies allowed possible fine true else exactly anything something
""")
_ASKING = _words("what which when where why how")
ELLIPTIC_WORDS = 12  # a message this short that names nothing leans on the conversation


def own_words(text: str) -> list[str]:
    """The words of a message that name something ("song", "savings", "online")."""
    return [w for w in _WORD.findall(text.lower()) if w not in FUNCTION and w not in GENERIC and not w.isdigit()]


def names_nothing(text: str) -> bool:
    """A short question with no word of its own: "up to what amount?", "why?", "so what happens now?".
    "ok", "thanks" or "yes" ask nothing: they are no follow-up question."""
    words = _WORD.findall(text.lower())
    asks = text.rstrip().endswith("?") or any(w in GENERIC or w in _ASKING for w in words)
    return asks and 0 < len(words) <= ELLIPTIC_WORDS and not own_words(text)
