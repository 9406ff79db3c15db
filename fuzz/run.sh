#!/usr/bin/env bash
# Run chlint's fuzz targets, each for a given time, with cargo-fuzz
# (libFuzzer). Not run in CI.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET ...]
#
# Targets: xml, yaml (the parsers), merge (merge, substitutions, lowering,
# writer), pipeline (files in a folder through `check` and every output
# format, about 12 inputs a second), deploy (the compose, Kubernetes, Helm
# values and CHI frontends on one text, and the rules), terraform (one root
# module and a local module evaluated and lowered). Default: 120 seconds
# for each.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a C++ compiler.
# cargo-fuzz needs nightly features; on stable Rust they are unlocked with
# RUSTC_BOOTSTRAP=1, which this script sets.
#
# Seeds come from testdata/, examples/ and ../shared/corpus (when present);
# the growing corpus lives in fuzz/corpus/TARGET, crashes in
# fuzz/artifacts/TARGET. Copy a fixed crash into fuzz/regressions/TARGET/ so
# that `cargo test` replays it (tests/fuzz_regressions.rs).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
secs="${1:-120}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(xml yaml merge pipeline deploy terraform)
fi
export RUSTC_BOOTSTRAP=1

roots=(../testdata ../examples)
if [ -d ../../shared/corpus ]; then
    roots+=(../../shared/corpus)
fi

# Seeds, rebuilt on every run (cheap): one file per input file for the
# parsers; a folder's main file and its merge files joined by NUL bytes for
# merge; the same with each part prefixed by a byte naming its file for the
# pipeline (see PIPELINE_FILES in src/fuzzing.rs).
seed() {
    rm -rf seeds
    mkdir -p seeds/xml seeds/yaml seeds/merge seeds/pipeline seeds/deploy seeds/terraform
    local n=0 f
    while IFS= read -r -d '' f; do
        n=$((n + 1))
        case "$f" in
            *.xml | *.conf) cp "$f" "seeds/xml/$n" ;;
            *.yaml | *.yml) cp "$f" "seeds/yaml/$n" ;;
        esac
    done < <(find "${roots[@]}" -type f \( -name '*.xml' -o -name '*.conf' -o -name '*.yaml' -o -name '*.yml' \) -size -256k -print0)
    local dir main part index
    while IFS= read -r -d '' main; do
        n=$((n + 1))
        dir="$(dirname "$main")"
        {
            cat "$main"
            for part in "$dir"/config.d/* "$dir"/conf.d/*; do
                [ -f "$part" ] || continue
                printf '\0'
                cat "$part"
            done
        } > "seeds/merge/$n"
        {
            printf '\x00'
            cat "$main"
            index=1
            for part in "$dir"/config.d/* "$dir"/users.xml "$dir"/users.d/*; do
                [ -f "$part" ] || continue
                case "$part" in
                    */users.xml) index=3 ;;
                    */users.d/*.y*ml) index=5 ;;
                    */users.d/*) index=4 ;;
                    *.y*ml) index=2 ;;
                    *) index=1 ;;
                esac
                printf '\0'"\\x$(printf '%02x' "$index")"
                cat "$part"
            done
        } > "seeds/pipeline/$n"
    done < <(find "${roots[@]}" -type f \( -name 'config.xml' -o -name 'config.yaml' \) -print0)
    # Deployment and Terraform files for the pipeline, each alone (indices
    # 16 and up in PIPELINE_FILES).
    while IFS= read -r -d '' f; do
        n=$((n + 1))
        case "$f" in
            *compose*) index=16 ;;
            */values*.y*ml) index=19 ;;
            *.tf) index=21 ;;
            *.tf.json) index=22 ;;
            *.tfvars) index=23 ;;
            *) index=17 ;;
        esac
        { printf "\\x$(printf '%02x' "$index")"; cat "$f"; } > "seeds/pipeline/$n"
        # The frontends by their index in DEPLOY_FILES, Terraform as main.tf
        # (src/fuzzing.rs).
        case "$f" in
            *compose*) { printf '\x00'; cat "$f"; } > "seeds/deploy/$n" ;;
            */values*.y*ml) { printf '\x02'; cat "$f"; } > "seeds/deploy/$n" ;;
            *.tf) cp "$f" "seeds/terraform/$n" ;;
            *.y*ml) { printf '\x01'; cat "$f"; } > "seeds/deploy/$n" ;;
        esac
    done < <(find "${roots[@]}" -type f \( -name '*compose*.y*ml' -o -name 'values*.y*ml' -o -name '*.tf' -o -name '*.tf.json' -o -name '*.tfvars' -o -path '*k8s*' -o -path '*operator*' -o -path '*helm*' \) -size -64k -print0)
    echo "seeds: $(ls seeds/xml | wc -l) xml, $(ls seeds/yaml | wc -l) yaml, $(ls seeds/merge | wc -l) merge, $(ls seeds/pipeline | wc -l) pipeline, $(ls seeds/deploy | wc -l) deploy, $(ls seeds/terraform | wc -l) terraform"
}

seed
cargo fuzz build --release

status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    dict=()
    case "$t" in
        xml | merge | pipeline) dict=(-dict=dict/xml.dict) ;;
        yaml | deploy) dict=(-dict=dict/yaml.dict) ;;
        terraform) dict=(-dict=dict/hcl.dict) ;;
    esac
    echo "==> $t for ${secs}s"
    if ! cargo fuzz run --release "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 "${dict[@]}"; then
        echo "==> $t: a crash, a timeout or an out-of-memory; see fuzz/artifacts/$t/"
        status=1
    fi
done
exit "$status"
