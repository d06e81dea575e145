use super::with_param;

#[test]
fn a_parameter_goes_before_the_fragment() {
    assert_eq!(with_param("/", "a", "b"), "/?a=b");
    assert_eq!(with_param("/x?q=1", "a", "b"), "/x?q=1&a=b");
    assert_eq!(with_param("/x#top", "a", "b"), "/x?a=b#top");
    assert_eq!(with_param("/x?q=1#t?u", "a", "b"), "/x?q=1&a=b#t?u");
}
