"""The Facebook page: Messenger conversations and comments under the page's posts, one
webhook (`object: page`) and the Graph API for answers."""
