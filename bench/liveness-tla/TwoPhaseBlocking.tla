---- MODULE TwoPhaseBlocking ----
(* two-phase:blocking: the TM may crash (unfair, never recovers); its steps need it up.     *)
EXTENDS TwoPhase
VARIABLE tmUp
vars == <<rmState, tmState, tmPrepared, msgs, tmUp>>
TM(A) == tmUp /\ A /\ UNCHANGED tmUp
RMs(A) == A /\ UNCHANGED tmUp
TMCrash == tmUp /\ tmUp' = FALSE /\ UNCHANGED <<rmState, tmState, tmPrepared, msgs>>
Init == TPInit /\ tmUp = TRUE
Next == \/ TM(TMCommit) \/ TM(TMAbort) \/ TMCrash
        \/ \E rm \in RM : TM(TMRcvPrepared(rm)) \/ RMs(RMPrepare(rm)) \/ RMs(RMChooseToAbort(rm))
                           \/ RMs(RMRcvCommitMsg(rm)) \/ RMs(RMRcvAbortMsg(rm))
Fairness ==
  /\ WF_vars(TM(TMCommit)) /\ WF_vars(TM(TMAbort))
  /\ \A rm \in RM : /\ WF_vars(RMs(RMPrepare(rm))) /\ WF_vars(RMs(RMChooseToAbort(rm)))
                    /\ WF_vars(TM(TMRcvPrepared(rm))) /\ WF_vars(RMs(RMRcvCommitMsg(rm))) /\ WF_vars(RMs(RMRcvAbortMsg(rm)))
Spec == Init /\ [][Next]_vars /\ Fairness
Termination == <>(\A rm \in RM : rmState[rm] \in {"committed", "aborted"})
====
