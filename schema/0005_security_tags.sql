-- Tags on IoT policies and CA certificates go with them.
CREATE TRIGGER policies_tags_gc AFTER DELETE ON policies BEGIN
    DELETE FROM tags WHERE arn GLOB ('arn:*:policy/' || OLD.name);
END;

CREATE TRIGGER ca_certificates_tags_gc AFTER DELETE ON ca_certificates BEGIN
    DELETE FROM tags WHERE arn GLOB ('arn:*:cacert/' || OLD.cert_id);
END;
