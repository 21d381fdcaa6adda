-- Thing groups and tags: a resource's tags go when the resource goes.
--
-- Tag rows are keyed by the resource ARN (arn:aws:iot:REGION:ACCOUNT:TYPE/NAME). Thing group and
-- thing type names contain neither '/' nor a GLOB metacharacter, so each pattern below
-- matches exactly the ARN of the deleted row (in whatever region and account it was tagged).
CREATE TRIGGER thing_groups_tags_gc AFTER DELETE ON thing_groups BEGIN
    DELETE FROM tags WHERE arn GLOB ('arn:*:thinggroup/' || OLD.name);
END;

CREATE TRIGGER thing_types_tags_gc AFTER DELETE ON thing_types BEGIN
    DELETE FROM tags WHERE arn GLOB ('arn:*:thingtype/' || OLD.name);
END;

-- Hierarchy rule checks ("one group per hierarchy for a thing") look groups up by root.
CREATE INDEX thing_groups_root ON thing_groups(root);
