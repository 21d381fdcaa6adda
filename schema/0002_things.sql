-- Things: indexes that let ListThings page in name order without sorting or scanning.
--
-- Thing names never change (AWS has no rename), so each attribute row carries its thing's name:
-- an attribute filter (key = ? AND value = ?) then walks thing_attributes_kvn in name order and
-- stops after one page. A type filter walks things_type_name the same way.
ALTER TABLE thing_attributes ADD COLUMN thing_name TEXT NOT NULL DEFAULT '';
UPDATE thing_attributes SET thing_name = (SELECT name FROM things WHERE things.id = thing);
DROP INDEX thing_attributes_kv;
CREATE INDEX thing_attributes_kvn ON thing_attributes(key, value, thing_name);
DROP INDEX things_type;
CREATE INDEX things_type_name ON things(type_id, name);
