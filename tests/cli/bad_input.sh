#!/usr/bin/env bash
# bad_input.sh MTIF WORK CASE: one kind of bad input must be refused by every
# subcommand that reads data with exit code 2, one line "file:line:col: ..."
# on stderr naming the column, and no output file.
source "$(dirname "$0")/lib.sh"
case_name="$3"

T="$WORK/train.csv"
S="$WORK/test.csv"
GOOD='task,y,a,b\nt1,1,2,3\nt1,2,3,5\nt2,0.5,1,1\nt2,1.5,2,-1\n'
put "$T" "$GOOD"
put "$S" 'task,y,a,b\nt1,1,2,3\nt2,2,1,0\n'
extra=()      # more arguments for this case
test_args=(--test "$S")

case "$case_name" in
  missing_task)        put "$T" 'y,a,b\n1,2,3\n';                   where="$T:1:4:"; what="'task'" ;;
  missing_target)      put "$T" 'task,a,b\nt1,2,3\n';               where="$T:1:4:"; what="'y'" ;;
  missing_target_named) extra=(--target price);                     where="$T:1:5:"; what="'price'" ;;
  missing_features)    extra=(--features a,zz);                     where="$T:1:5:"; what="'zz'" ;;
  non_numeric_feature) put "$T" 'task,y,a,b\nt1,1,2,3\nt1,1,x1,3\n'; where="$T:3:3:"; what="column 'a'" ;;
  non_numeric_target)  put "$T" 'task,y,a,b\nt1,abc,2,3\n';         where="$T:2:2:"; what="column 'y'" ;;
  nan)                 put "$T" 'task,y,a,b\nt1,1,2,NaN\n';         where="$T:2:4:"; what="column 'b'" ;;
  inf)                 put "$T" 'task,y,a,b\nt1,inf,2,3\n';         where="$T:2:2:"; what="column 'y'" ;;
  minus_inf)           put "$T" 'task,y,a,b\nt1,1,-inf,3\n';        where="$T:2:3:"; what="column 'a'" ;;
  empty_value)         put "$T" 'task,y,a,b\nt1,1,,3\n';            where="$T:2:3:"; what="column 'a'" ;;
  ragged_few)          put "$T" 'task,y,a,b\nt1,1,2,3\nt1,1,2\n';   where="$T:3:4:"; what="column 'b'" ;;
  ragged_many)         put "$T" 'task,y,a,b\nt1,1,2,3,4\n';         where="$T:2:5:"; what="ragged" ;;
  empty_file)          put "$T" '';                                 where="$T:1:1:"; what="empty file" ;;
  header_only)         put "$T" 'task,y,a,b\n';                     where="$T:1:1:"; what="no data rows" ;;
  duplicate_column)    put "$T" 'task,y,a,a\nt1,1,2,3\n';           where="$T:1:4:"; what="'a'" ;;
  unclosed_quote)      put "$T" 'task,y,a,b\n"t1,1,2,3\n';          where="$T:2:1:"; what="column 'task'" ;;
  nul_byte)            put "$T" 'task,y,a,b\nt1,1,2,3\x00\n';       where="$T:2:4:"; what="column 'b'" ;;
  crlf_error)          put "$T" 'task,y,a,b\r\nt1,1,2,3\r\n\r\nt1,1,2,?\r\n'; where="$T:4:4:"; what="column 'b'" ;;
  bad_split)           put "$T" 'task,y,a,b,split\nt1,1,2,3,train\nt1,1,2,3,validation\n'
                       test_args=();                                 where="$T:3:5:"; what="column 'split'" ;;
  test_task_unseen_file) put "$S" 'task,y,a,b\nt1,1,2,3\n\nt9,1,2,3\n'; where="$S:4:1:"; what="'t9'" ;;
  test_task_unseen_split) put "$T" 'y,task,a,b,split\n1,t1,2,3,train\n1,t1,2,3,test\n1,t9,2,3,test\n'
                       test_args=();                                 where="$T:4:2:"; what="'t9'" ;;
  no_split_no_test)    test_args=();                                 where="$T:1:5:"; what="'split'" ;;
  split_no_test_rows)  put "$T" 'task,y,a,b,split\nt1,1,2,3,train\nt2,1,2,3,train\n'
                       test_args=();                                 where="$T:1:5:"; what="'test'" ;;
  test_features_differ) put "$S" 'task,y,a,c\nt1,1,2,3\n';          where="$S:1:4:"; what="'c'" ;;
  test_bad_value)      put "$S" 'task,y,a,b\nt1,1,2,3\nt1,1,2,1e999\n'; where="$S:3:4:"; what="column 'b'" ;;
  *) fail "unknown case $case_name" ;;
esac

out="$WORK/out.csv"
expect_refused "$where" "$what" "$out" -- "$MTIF" influence --train "$T" "${test_args[@]}" "${extra[@]}" --out "$out"
expect_refused "$where" "$what" "$WORK/out.npy" -- "$MTIF" influence --train "$T" "${test_args[@]}" "${extra[@]}" \
  --out "$WORK/out.npy" --json "$WORK/summary.json"
[ ! -e "$WORK/summary.json" ] || fail "--json summary written although the run failed"
expect_refused "$where" "$what" "$out" -- "$MTIF" loo --train "$T" "${test_args[@]}" "${extra[@]}" --rows all --out "$out"
expect_refused "$where" "$what" "$out" -- "$MTIF" relatedness --train "$T" "${test_args[@]}" "${extra[@]}" --out "$out"
expect_refused "$where" "$what" "$WORK/none" -- "$MTIF" fit --train "$T" "${test_args[@]}" "${extra[@]}"

# An output file that already exists is left as it was.
put "$out" 'old contents\n'
"$MTIF" influence --train "$T" "${test_args[@]}" "${extra[@]}" --out "$out" 2>/dev/null && fail "the run succeeded"
[ "$(cat "$out")" = "old contents" ] || fail "$out was changed by a failed run"
[ -z "$(leftovers "$WORK")" ] || fail "temporary files left: $(leftovers "$WORK")"
echo "ok: $case_name refused with $(cat "$WORK/stderr.txt")"
