/**
 * A small English text embedded in the examples (written for them, no download), used as the
 * word-level corpus of word_language_model and the character corpus of nanogpt.
 */
export const CORPUS = `the old miller lived by the river and the river turned his wheel
every morning the miller opened the gate and the water ran over the wheel
the wheel turned the stone and the stone ground the grain into flour
the miller sold the flour in the town across the bridge
in the town the baker bought the flour and made the bread
the baker sold the bread to the children and the children ate the bread by the river
one winter the river froze and the wheel stood still
the miller sat by the fire and waited for the spring
the baker had no flour and the children had no bread
in the spring the ice broke and the water ran again
the wheel turned the stone and the stone ground the grain
the miller carried the flour across the bridge to the town
the baker made the bread and the children ran to the river
the children thanked the miller and the miller thanked the river
the river said nothing and ran on to the sea
at the sea the fishermen pulled their nets from the water
the fishermen sold the fish in the town across the bridge
the baker bought a fish and the miller bought a fish
and every evening the town ate bread and fish by the fire
the old miller grew older and his son learned to open the gate
the son opened the gate every morning and the water ran over the wheel
the wheel turned the stone and the stone ground the grain into flour
the son sold the flour in the town and the baker made the bread
the children grew up and their children ran to the river
and the river turned the wheel as it had always done
`;
