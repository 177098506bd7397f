"""OSS: the artifact bucket, its ACL, its public-access block and the code objects in it.

Provider sources: `resource_alicloud_oss_bucket.go`, `resource_alicloud_oss_bucket_object.go`,
`resource_alicloud_oss_bucket_acl.go` and `resource_alicloud_oss_bucket_public_access_block.go`
at the commit named in `model`. Since 1.280.0 two commits touched them, neither the schema:
388b3efbb (bucket delete with `force_destroy` skips DeleteObjectVersions when nothing is left)
and e8c976269 (an object deleted out of band is dropped from state on refresh instead of failing
it, so the next apply uploads it again).

Terraform blocks become Pulumi inputs as follows: MaxItems:1 blocks are objects
(`serverSideEncryptionRule`, `website`, `logging`, `refererConfig`, `versioning`,
`transferAcceleration`, `accessMonitor`, a rule's `filter`); the other blocks are lists, with
the plural names Pulumi gives them (`lifecycle_rule` -> `lifecycleRules`, `expiration` ->
`expirations`, `abort_multipart_upload` -> `abortMultipartUploads`, `cors_rule` -> `corsRules`).

What the provider does not validate and OSS does, sourced to the OSS pages: bucket names are
3-63 lowercase letters, digits and `-`, starting and ending with a letter or digit
(alibabacloud.com/help/en/oss/user-guide/bucket-naming-conventions); object names are 1-1023
bytes of UTF-8 and start with neither `/` nor `\\`
(alibabacloud.com/help/en/oss/user-guide/object-naming-conventions).

Deletes: a bucket with objects left fails with BucketNotEmpty unless `forceDestroy` is true
(bucket.go:1752-1792); then the provider lists one page of object versions and delete markers,
deletes them and retries DeleteBucket for up to 5 minutes (it aborts no multipart upload, so
parts left by an interrupted upload still block it). Deleting a `BucketAcl` only forgets it
(bucket_acl.go:151-154: the bucket keeps the ACL).
"""

from __future__ import annotations

from collections.abc import Mapping

from provider_contract.model import PROVIDER, Field, Resource, Rule
from provider_contract.rules import exactly_one, is_set, rule, together

BUCKET = PROVIDER + "resource_alicloud_oss_bucket.go:"
OBJECT = PROVIDER + "resource_alicloud_oss_bucket_object.go:"
ACL = PROVIDER + "resource_alicloud_oss_bucket_acl.go:"
PUBLIC_ACCESS_BLOCK = PROVIDER + "resource_alicloud_oss_bucket_public_access_block.go:"
VALIDATORS = PROVIDER + "validators.go:"

BUCKET_NAMING_DOC = (
    "OSS bucket naming (alibabacloud.com/help/en/oss/user-guide/bucket-naming-conventions)"
)
OBJECT_NAMING_DOC = (
    "OSS object naming (alibabacloud.com/help/en/oss/user-guide/object-naming-conventions)"
)

BUCKET_NAME = r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"
"""OSS bucket names: 3-63 lowercase letters, digits and `-`, a letter or digit at both ends."""
OBJECT_KEY = r"[^/\\][\s\S]*"
"""OSS object names start with neither `/` nor `\\` (their length is in bytes: a `Rule`)."""
OBJECT_KEY_MAX_BYTES = 1023

DATE = r"\d{4}-\d{2}-\d{2}"
"""validateOssBucketDateTimestamp: Go's time.Parse("2006-01-02") (validators.go:128)."""
RFC1123 = (
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [A-Z]{3,4}"
)
"""`expires` must parse as Go's time.RFC1123, "Mon, 02 Jan 2006 15:04:05 MST" (object.go:393)."""

STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
"""aliyun-oss-go-sdk's StorageClassType values (bucket.go:212, 275, 378)."""
ACLS = ("private", "public-read", "public-read-write")


def _items(value: object) -> list[Mapping[str, object]]:
    """The mapping items of a list input (none when absent or not a list)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _days_set(item: Mapping[str, object]) -> bool:
    """The provider counts `days` only when greater than zero (bucket.go:1369, 1398, 1432)."""
    days = item.get("days")
    return isinstance(days, int | float) and not isinstance(days, bool) and days > 0


def _first_only(block: str, source: str) -> Rule:
    """A lifecycle rule sends only the first item of its `block` list."""

    def check(inputs: Mapping[str, object]) -> str | None:
        for index, lifecycle_rule in enumerate(_items(inputs.get("lifecycleRules"))):
            count = len(_items(lifecycle_rule.get(block)))
            if count > 1:
                return f"lifecycleRules[{index}] has {count} {block}; only the first is sent"
        return None

    return Rule(f"a lifecycle rule sends only the first of its {block}", source, check)


def _date_or_days(block: str, source: str) -> Rule:
    """Each item of a lifecycle rule's `block` sets exactly one of createdBeforeDate and days."""

    def check(inputs: Mapping[str, object]) -> str | None:
        for index, lifecycle_rule in enumerate(_items(inputs.get("lifecycleRules"))):
            for item in _items(lifecycle_rule.get(block)):
                if is_set(item, "createdBeforeDate", blank_is_unset=True) == _days_set(item):
                    return (
                        f"lifecycleRules[{index}].{block} item must set exactly one of "
                        "createdBeforeDate and days (> 0)"
                    )
        return None

    return Rule(f"each of {block} sets exactly one of createdBeforeDate and days", source, check)


@rule(
    "an expiration sets exactly one of date, createdBeforeDate, days, or "
    "expiredObjectDeleteMarker alone",
    BUCKET + "1354",
)
def _expiration_exactly_one(inputs: Mapping[str, object]) -> str | None:
    for index, lifecycle_rule in enumerate(_items(inputs.get("lifecycleRules"))):
        for expiration in _items(lifecycle_rule.get("expirations")):
            chosen = [
                key
                for key in ("date", "createdBeforeDate")
                if is_set(expiration, key, blank_is_unset=True)
            ] + (["days"] if _days_set(expiration) else [])
            if expiration.get("expiredObjectDeleteMarker") is True:
                if chosen:
                    return (
                        f"lifecycleRules[{index}] expiration sets expiredObjectDeleteMarker "
                        f"with {', '.join(chosen)}"
                    )
            elif len(chosen) != 1:
                return (
                    f"lifecycleRules[{index}] expiration must set exactly one of date, "
                    f"createdBeforeDate and days (> 0), got {chosen or 'none'}"
                )
    return None


@rule("object keys are at most 1023 bytes of UTF-8", OBJECT_NAMING_DOC)
def _key_bytes(inputs: Mapping[str, object]) -> str | None:
    key = inputs.get("key")
    if isinstance(key, str) and len(key.encode()) > OBJECT_KEY_MAX_BYTES:
        return f"key is {len(key.encode())} bytes; OSS allows {OBJECT_KEY_MAX_BYTES}"
    return None


def _bucket_refuses_delete(inputs: Mapping[str, object], objects: int) -> str | None:
    if objects > 0 and inputs.get("forceDestroy") is not True:
        return (
            f"DeleteBucket fails with BucketNotEmpty while {objects} object(s) remain and "
            f"forceDestroy is not true ({BUCKET}1757-1758)"
        )
    return None


_EXPIRATION = "lifecycleRules[].expirations[]"
_TRANSITION = "lifecycleRules[].transitions[]"
_ABORT = "lifecycleRules[].abortMultipartUploads[]"
_NONCURRENT_EXPIRATION = "lifecycleRules[].noncurrentVersionExpirations[]"
_NONCURRENT_TRANSITION = "lifecycleRules[].noncurrentVersionTransitions[]"
_FILTER = "lifecycleRules[].filter"

BUCKET_RESOURCE = Resource(
    type="alicloud:oss/bucket:Bucket",
    terraform="alicloud_oss_bucket",
    fields=(
        Field(
            "bucket",
            "string",
            f"{BUCKET}28; {BUCKET_NAMING_DOC}",
            force_new=True,
            min_length=3,
            max_length=63,
            pattern=BUCKET_NAME,
        ),
        Field("acl", "string", BUCKET + "36", allowed=ACLS),
        Field("corsRules", "list", BUCKET + "44", max_length=10),
        Field("corsRules[]", "object", BUCKET + "47"),
        Field("corsRules[].allowedHeaders", "list", BUCKET + "49"),
        Field("corsRules[].allowedHeaders[]", "string", BUCKET + "52"),
        Field("corsRules[].allowedMethods", "list", BUCKET + "54", required=True),
        Field("corsRules[].allowedMethods[]", "string", BUCKET + "57"),
        Field("corsRules[].allowedOrigins", "list", BUCKET + "59", required=True),
        Field("corsRules[].allowedOrigins[]", "string", BUCKET + "62"),
        Field("corsRules[].exposeHeaders", "list", BUCKET + "64"),
        Field("corsRules[].exposeHeaders[]", "string", BUCKET + "67"),
        Field("corsRules[].maxAgeSeconds", "int", BUCKET + "69"),
        Field("website", "object", BUCKET + "78"),
        Field("website.indexDocument", "string", BUCKET + "83", required=True),
        Field("website.errorDocument", "string", BUCKET + "88"),
        Field("logging", "object", BUCKET + "97"),
        Field("logging.targetBucket", "string", BUCKET + "102", required=True),
        Field("logging.targetPrefix", "string", BUCKET + "106"),
        Field("loggingIsenable", "bool", BUCKET + "115"),
        Field("refererConfig", "object", BUCKET + "121"),
        Field("refererConfig.allowEmpty", "bool", BUCKET + "126"),
        Field("refererConfig.referers", "list", BUCKET + "131", required=True),
        Field("refererConfig.referers[]", "string", BUCKET + "134"),
        Field("lifecycleRuleAllowSameActionOverlap", "bool", BUCKET + "141"),
        Field("lifecycleRules", "list", BUCKET + "147", max_length=1000),
        Field("lifecycleRules[]", "object", BUCKET + "150"),
        Field("lifecycleRules[].id", "string", BUCKET + "152", max_length=255),
        Field("lifecycleRules[].prefix", "string", BUCKET + "158"),
        Field("lifecycleRules[].enabled", "bool", BUCKET + "163", required=True),
        Field("lifecycleRules[].expirations", "list", BUCKET + "167"),
        Field(_EXPIRATION, "object", BUCKET + "171"),
        Field(f"{_EXPIRATION}.date", "string", f"{BUCKET}173; {VALIDATORS}128", pattern=DATE),
        Field(
            f"{_EXPIRATION}.createdBeforeDate",
            "string",
            f"{BUCKET}178; {VALIDATORS}128",
            pattern=DATE,
        ),
        Field(f"{_EXPIRATION}.days", "int", BUCKET + "183"),
        Field(f"{_EXPIRATION}.expiredObjectDeleteMarker", "bool", BUCKET + "187"),
        Field("lifecycleRules[].transitions", "list", BUCKET + "194"),
        Field(_TRANSITION, "object", BUCKET + "198"),
        Field(
            f"{_TRANSITION}.createdBeforeDate",
            "string",
            f"{BUCKET}200; {VALIDATORS}128",
            pattern=DATE,
        ),
        Field(f"{_TRANSITION}.days", "int", BUCKET + "205"),
        Field(
            f"{_TRANSITION}.storageClass",
            "string",
            BUCKET + "209",
            required=True,
            allowed=STORAGE_CLASSES,
        ),
        Field(f"{_TRANSITION}.isAccessTime", "bool", BUCKET + "220"),
        Field(f"{_TRANSITION}.returnToStdWhenVisit", "bool", BUCKET + "224"),
        Field("lifecycleRules[].abortMultipartUploads", "list", BUCKET + "231"),
        Field(_ABORT, "object", BUCKET + "235"),
        Field(
            f"{_ABORT}.createdBeforeDate",
            "string",
            f"{BUCKET}237; {VALIDATORS}128",
            pattern=DATE,
        ),
        Field(f"{_ABORT}.days", "int", BUCKET + "242"),
        Field("lifecycleRules[].noncurrentVersionExpirations", "list", BUCKET + "249"),
        Field(_NONCURRENT_EXPIRATION, "object", BUCKET + "253"),
        Field(f"{_NONCURRENT_EXPIRATION}.days", "int", BUCKET + "255", required=True),
        Field("lifecycleRules[].noncurrentVersionTransitions", "list", BUCKET + "262"),
        Field(_NONCURRENT_TRANSITION, "object", BUCKET + "266"),
        Field(f"{_NONCURRENT_TRANSITION}.days", "int", BUCKET + "268", required=True),
        Field(
            f"{_NONCURRENT_TRANSITION}.storageClass",
            "string",
            BUCKET + "272",
            required=True,
            allowed=STORAGE_CLASSES,
        ),
        Field(f"{_NONCURRENT_TRANSITION}.isAccessTime", "bool", BUCKET + "283"),
        Field(f"{_NONCURRENT_TRANSITION}.returnToStdWhenVisit", "bool", BUCKET + "287"),
        Field("lifecycleRules[].tags", "map", BUCKET + "294"),
        Field(_FILTER, "object", BUCKET + "295"),
        Field(f"{_FILTER}.not", "object", BUCKET + "301"),
        Field(f"{_FILTER}.not.prefix", "string", BUCKET + "307"),
        Field(f"{_FILTER}.not.tag", "object", BUCKET + "311"),
        Field(f"{_FILTER}.not.tag.key", "string", BUCKET + "317", required=True),
        Field(f"{_FILTER}.not.tag.value", "string", BUCKET + "321", required=True),
        Field(f"{_FILTER}.objectSizeGreaterThan", "int", BUCKET + "331", minimum=1),
        Field(f"{_FILTER}.objectSizeLessThan", "int", BUCKET + "336", minimum=1),
        Field("policy", "string", BUCKET + "349"),
        Field(
            "storageClass",
            "string",
            BUCKET + "373",
            force_new=True,
            allowed=STORAGE_CLASSES,
        ),
        Field("redundancyType", "string", BUCKET + "386", force_new=True, allowed=("LRS", "ZRS")),
        Field("serverSideEncryptionRule", "object", BUCKET + "396"),
        Field(
            "serverSideEncryptionRule.sseAlgorithm",
            "string",
            BUCKET + "401",
            required=True,
            allowed=("AES256", "KMS", "SM4"),
        ),
        Field("serverSideEncryptionRule.kmsMasterKeyId", "string", BUCKET + "410"),
        Field(
            "serverSideEncryptionRule.kmsDataEncryption",
            "string",
            BUCKET + "414",
            allowed=("SM4", ""),
        ),
        Field("tags", "map", BUCKET + "427"),
        Field("forceDestroy", "bool", BUCKET + "429"),
        Field("versioning", "object", BUCKET + "435"),
        Field(
            "versioning.status",
            "string",
            BUCKET + "440",
            required=True,
            allowed=("Enabled", "Suspended"),
        ),
        Field("transferAcceleration", "object", BUCKET + "453"),
        Field("transferAcceleration.enabled", "bool", BUCKET + "458", required=True),
        Field("accessMonitor", "object", BUCKET + "467"),
        Field(
            "accessMonitor.status",
            "string",
            BUCKET + "473",
            allowed=("Enabled", "Disabled"),
        ),
        Field("resourceGroupId", "string", BUCKET + "486"),
    ),
    # The id is the name (:591), unique across all OSS users, not only this account (:518).
    identity=("bucket",),
    scope="global",
    identity_source=BUCKET + "591",
    rules=(
        _first_only("expirations", BUCKET + "1346"),
        _expiration_exactly_one,
        _date_or_days("transitions", BUCKET + "1391"),
        _first_only("abortMultipartUploads", BUCKET + "1418"),
        _date_or_days("abortMultipartUploads", BUCKET + "1425"),
        _first_only("noncurrentVersionExpirations", BUCKET + "1439"),
    ),
    refuses_delete=_bucket_refuses_delete,
)

BUCKET_OBJECT_RESOURCE = Resource(
    type="alicloud:oss/bucketObject:BucketObject",
    terraform="alicloud_oss_bucket_object",
    fields=(
        Field(
            "bucket",
            "string",
            f"{OBJECT}28; {BUCKET_NAMING_DOC}",
            required=True,
            force_new=True,
            pattern=BUCKET_NAME,
        ),
        Field(
            "key",
            "string",
            f"{OBJECT}34; {OBJECT_NAMING_DOC}",
            required=True,
            force_new=True,
            min_length=1,
            pattern=OBJECT_KEY,
        ),
        Field("source", "string", OBJECT + "40"),
        Field("content", "string", OBJECT + "46"),
        Field("acl", "string", OBJECT + "52", allowed=ACLS),
        Field("contentType", "string", OBJECT + "59"),
        Field("cacheControl", "string", OBJECT + "70"),
        Field("contentDisposition", "string", OBJECT + "75"),
        Field("contentEncoding", "string", OBJECT + "80"),
        Field("contentMd5", "string", OBJECT + "85"),
        Field("expires", "string", f"{OBJECT}90, 393", pattern=RFC1123),
        Field("serverSideEncryption", "string", OBJECT + "95", allowed=("KMS", "AES256")),
        Field("kmsKeyId", "string", OBJECT + "104"),
        Field("objectWormMode", "string", OBJECT + "112", allowed=("COMPLIANCE",)),
        Field("objectWormRetainUntilDate", "string", OBJECT + "120"),
    ),
    # The id is the key alone (:264); the object is unique per bucket.
    identity=("bucket", "key"),
    identity_source=OBJECT + "264",
    rules=(
        exactly_one(("source", "content"), f"{OBJECT}43, 49, 233", blank_is_unset=True),
        together(
            "objectWormMode",
            "objectWormRetainUntilDate",
            f"{OBJECT}117, 124",
            blank_is_unset=True,
        ),
        _key_bytes,
    ),
)

BUCKET_ACL_RESOURCE = Resource(
    type="alicloud:oss/bucketAcl:BucketAcl",
    terraform="alicloud_oss_bucket_acl",
    fields=(
        # Not validated by this resource; the values are the bucket's own `acl` list.
        Field("acl", "string", f"{ACL}29; {BUCKET}40", required=True, allowed=ACLS),
        Field(
            "bucket",
            "string",
            f"{ACL}33; {BUCKET_NAMING_DOC}",
            required=True,
            force_new=True,
            pattern=BUCKET_NAME,
        ),
    ),
    identity=("bucket",),
    identity_source=ACL + "80",
)

BUCKET_PUBLIC_ACCESS_BLOCK_RESOURCE = Resource(
    type="alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock",
    terraform="alicloud_oss_bucket_public_access_block",
    fields=(
        Field("blockPublicAccess", "bool", PUBLIC_ACCESS_BLOCK + "30", required=True),
        Field(
            "bucket",
            "string",
            f"{PUBLIC_ACCESS_BLOCK}34; {BUCKET_NAMING_DOC}",
            required=True,
            force_new=True,
            pattern=BUCKET_NAME,
        ),
    ),
    identity=("bucket",),
    identity_source=PUBLIC_ACCESS_BLOCK + "82",
)

RESOURCES: tuple[Resource, ...] = (
    BUCKET_RESOURCE,
    BUCKET_OBJECT_RESOURCE,
    BUCKET_ACL_RESOURCE,
    BUCKET_PUBLIC_ACCESS_BLOCK_RESOURCE,
)
