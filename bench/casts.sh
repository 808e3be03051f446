# The real casts of the relatedness benchmarks (bench/surrogate_table.sh, bench/grouping.sh),
# sourced by them: the image casts' folders, one per split seed (the sampling seed), and each
# cast's linear-model penalties (chosen by validation loss in bench/selection.sh).
# Needs $mtif and $data set by the caller.

# Makes $data/CAST/seedSEED for an image cast unless it exists (tabular casts come from
# scripts/fetch_data.sh).
image_cast() {
  local cast="$1" seed="$2" d="$data/$1/seed$2"
  [ -s "$d/test.csv" ] && return 0
  case "$cast" in
    fashion-ovr) "$mtif" images --source fashion-mnist --data-dir "$data/fashion-mnist" --pool 4 --train-pos 100 \
      --train-neg 100 --valid-fraction 0.2 --valid-pos 500 --valid-neg 500 --test-pos 500 --test-neg 500 \
      --seed "$seed" --out-dir "$d" -q ;;
    digits-ovr) "$mtif" images --source mnist-digits --data-dir "$data/mnist-digits" --pool 4 --train-pos 100 \
      --train-neg 100 --valid-fraction 0.5 --valid-pos 300 --valid-neg 300 --test-pos 150 --test-neg 150 \
      --seed "$seed" --out-dir "$d" -q ;;
  esac
}

# The linear model's flags for a cast.
model_args() {
  case "$1" in
    oj-brands) echo "--intercept --lambda-task 0.01 --lambda-shared 0.01" ;;
    oj-stores) echo "--intercept --lambda-task 0.1 --lambda-shared 0.001" ;;
    chem97) echo "--intercept --lambda-task 1 --lambda-shared 0.1" ;;
    fashion-ovr) echo "--loss logistic --intercept --lambda-task 0.001 --lambda-shared 0.01" ;;
    digits-ovr) echo "--loss logistic --intercept --lambda-task 0.0003 --lambda-shared 0.1" ;;
  esac
}
