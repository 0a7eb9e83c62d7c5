"""The paper's section 3: approximate a network by RSS, sampling, summaries, the reproduction."""
