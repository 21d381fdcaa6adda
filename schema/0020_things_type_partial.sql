-- things_type_name serves type filters only (`type_id = ?`, `type_id IN (...)`): things without
-- a type need no entry. Every CreateThing of an untyped thing wrote one more index page to the
-- WAL; now it writes none (about 1 of the 12 pages of its commit).
DROP INDEX things_type_name;
CREATE INDEX things_type_name ON things(type_id, name) WHERE type_id IS NOT NULL;
