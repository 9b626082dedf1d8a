#!/bin/sh
# One-shot (service `temporal-setup`, image temporalio/admin-tools): registers the custom search attributes
# every recognition case carries, so "stuck approvals" is one visibility query. Safe to run again:
# an attribute that already exists with the same type is accepted, a type clash fails the job.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
ATTEMPTS="${SETUP_ATTEMPTS:-90}"

# auto-setup creates the namespace shortly after the frontend answers; wait until it is usable.
n=0
until temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; do
    n=$((n + 1))
    if [ "$n" -ge "$ATTEMPTS" ]; then
        echo "namespace $NAMESPACE not reachable at $ADDRESS after $ATTEMPTS attempts" >&2
        exit 1
    fi
    echo "waiting for namespace $NAMESPACE at $ADDRESS ..."
    sleep 2
done

# registered NAME TYPE: the attribute is listed with that type (CLI prints "Keyword" or the enum name).
registered() {
    temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" \
        | awk -v n="$1" -v t="$2" '
            $1 == n && (toupper($2) == toupper(t) || toupper($2) == "INDEXED_VALUE_TYPE_" toupper(t)) { ok = 1 }
            END { exit !ok }'
}

# Newer servers treat an existing attribute as a no-op, older ones answer AlreadyExists: then check its type.
temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name Stage --type Keyword || registered Stage Keyword
temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name UnitCode --type Keyword || registered UnitCode Keyword
temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name ProvinceCode --type Keyword || registered ProvinceCode Keyword
temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name RoundId --type Keyword || registered RoundId Keyword
temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name DueAt --type Datetime || registered DueAt Datetime
temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name EscalationLevel --type Int || registered EscalationLevel Int
temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name Problem --type Keyword || registered Problem Keyword

echo "search attributes registered in namespace $NAMESPACE:"
temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE"
