-- Headers and labels no list has seen (issue 12): the words they are compared on, and the rules
-- that only repeat another finding of the same row. Synced from reference/matching_words.csv and
-- reference/rule_consequences.csv by every migrate, like the synonyms.
CREATE TABLE ref.matching_word (
    kind      text NOT NULL CHECK (kind IN ('stop', 'unit', 'prefix', 'abbreviation', 'variant', 'optional')),
    word      text NOT NULL,
    expansion text,  -- abbreviation, variant: the word(s) it is read as
    note      text,
    PRIMARY KEY (kind, word)
);
COMMENT ON TABLE ref.matching_word IS
    'Words headers and labels are compared on: dropped (stop, unit), stripped (Arabic prefix), read as others (abbreviation, variant) or allowed in addition (optional).';

CREATE TABLE ref.rule_consequence (
    cause       text NOT NULL REFERENCES ref.rule,
    consequence text NOT NULL REFERENCES ref.rule,
    why         text,
    PRIMARY KEY (cause, consequence)
);
COMMENT ON TABLE ref.rule_consequence IS
    'A finding of rule consequence is not reported on a row that already has a finding of rule cause (one root cause, one finding).';
